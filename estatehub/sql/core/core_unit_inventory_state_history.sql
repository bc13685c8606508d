-- core_unit_inventory_state_history, step 2 of 2: a unit staged in :batch_id without an open state
-- (new, or its state just closed by __close) opens one from its updated_at. Re-loading the same
-- state changes nothing.
with batch_units as (
    select
        permit_no,
        unit_code,
        sale_state,
        restriction,
        updated_at
    from stg_tn_inventory_unit
    where batch_id = :batch_id
),

open_states as (
    select
        permit_no,
        unit_code
    from core_unit_inventory_state_history
    where valid_to is null
),

final as (
    select
        batch_units.permit_no,
        batch_units.unit_code,
        batch_units.updated_at as valid_from,
        cast(null as timestamp) as valid_to,
        batch_units.sale_state,
        batch_units.restriction
    from batch_units
    left join open_states
        on
            open_states.permit_no = batch_units.permit_no
            and open_states.unit_code = batch_units.unit_code
    where open_states.permit_no is null
)

insert into core_unit_inventory_state_history (
    permit_no, unit_code, valid_from, valid_to, sale_state, restriction
)
select * from final
where true
on conflict (permit_no, unit_code, valid_from) do update set
    valid_to = null,
    sale_state = excluded.sale_state,
    restriction = excluded.restriction
