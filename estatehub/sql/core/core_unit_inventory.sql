-- core_unit_inventory: each unit of each permit's building table as last staged.
-- Incremental by batch: the units staged in :batch_id replace their rows.
with batch_units as (
    select
        permit_no,
        unit_code,
        project_code,
        project_name,
        house_id,
        realty_unit_no,
        building,
        unit,
        floor,
        room,
        usage,
        building_area,
        inner_area,
        record_unit_price_fen,
        record_total_price_fen,
        sale_state,
        restriction,
        updated_at
    from stg_tn_inventory_unit
    where batch_id = :batch_id
),

final as (
    select * from batch_units
)

insert into core_unit_inventory (
    permit_no, unit_code, project_code, project_name, house_id, realty_unit_no, building, unit, floor, room,
    usage, building_area, inner_area, record_unit_price_fen, record_total_price_fen, sale_state, restriction,
    updated_at
)
select * from final
where true
on conflict (permit_no, unit_code) do update set
    project_code = excluded.project_code,
    project_name = excluded.project_name,
    house_id = excluded.house_id,
    realty_unit_no = excluded.realty_unit_no,
    building = excluded.building,
    unit = excluded.unit,
    floor = excluded.floor,
    room = excluded.room,
    usage = excluded.usage,
    building_area = excluded.building_area,
    inner_area = excluded.inner_area,
    record_unit_price_fen = excluded.record_unit_price_fen,
    record_total_price_fen = excluded.record_total_price_fen,
    sale_state = excluded.sale_state,
    restriction = excluded.restriction,
    updated_at = excluded.updated_at
