-- core_unit_inventory_state_history, step 1 of 2: the open state of each unit staged in :batch_id
-- ends where the unit now shows another state (or restriction); valid_to is the row's updated_at,
-- the network's last change of the unit (the state changed at or before it).
with batch_units as (
    select
        permit_no,
        unit_code,
        sale_state,
        coalesce(restriction, '') as restriction,
        updated_at
    from stg_tn_inventory_unit
    where batch_id = :batch_id
)

update core_unit_inventory_state_history
set valid_to = batch_units.updated_at
from batch_units
where
    batch_units.permit_no = core_unit_inventory_state_history.permit_no
    and batch_units.unit_code = core_unit_inventory_state_history.unit_code
    and core_unit_inventory_state_history.valid_to is null
    and (
        batch_units.sale_state <> core_unit_inventory_state_history.sale_state
        or batch_units.restriction <> coalesce(core_unit_inventory_state_history.restriction, '')
    )
