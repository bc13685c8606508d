-- core_unit: one row per house, as described by the most recently updated contract on it.
-- Incremental by batch: the houses of the contracts staged in :batch_id are rebuilt from every
-- current staged contract on those houses, so the result does not depend on how syncs were batched.
with batch_houses as (
    select distinct house_id
    from stg_tn_contract
    where batch_id = :batch_id
),

contracts as (
    select
        stg_tn_contract.house_id,
        stg_tn_contract.project_code,
        stg_tn_contract.project_name,
        stg_tn_contract.building,
        stg_tn_contract.unit,
        stg_tn_contract.floor,
        stg_tn_contract.room,
        stg_tn_contract.permit_no,
        stg_tn_contract.usage,
        stg_tn_contract.building_area,
        stg_tn_contract.inner_area,
        stg_tn_contract.shared_area,
        stg_tn_contract.updated_at,
        stg_tn_contract.contract_no
    from stg_tn_contract
    inner join batch_houses on batch_houses.house_id = stg_tn_contract.house_id
),

ranked as (
    select
        contracts.*,
        row_number() over (
            partition by house_id order by updated_at desc, contract_no desc
        ) as row_no
    from contracts
),

final as (
    select
        house_id,
        project_code,
        project_name,
        building,
        unit,
        floor,
        room,
        permit_no,
        usage,
        building_area,
        inner_area,
        shared_area
    from ranked
    where row_no = 1
)

insert into core_unit (
    house_id, project_code, project_name, building, unit, floor, room, permit_no, usage,
    building_area, inner_area, shared_area
)
select * from final
where true
on conflict (house_id) do update set
    project_code = excluded.project_code,
    project_name = excluded.project_name,
    building = excluded.building,
    unit = excluded.unit,
    floor = excluded.floor,
    room = excluded.room,
    permit_no = excluded.permit_no,
    usage = excluded.usage,
    building_area = excluded.building_area,
    inner_area = excluded.inner_area,
    shared_area = excluded.shared_area
