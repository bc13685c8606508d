-- unit_inventory_contract_mismatches: units of the building tables whose house_id is a core_unit (a
-- unit with contracts) and whose sale state is not the one its contracts imply: 已备案 for a live
-- filed main contract (已备案, 已领证, 变更), 已签 for a live signed one, else 可售. 限制 and 不可售
-- units with a live contract are listed too (a sealed unit was sold). Empty when the network's two
-- faces agree; both syncs must have read the network at about the same time.
with inventory as (
    select
        permit_no,
        unit_code,
        house_id,
        sale_state
    from core_unit_inventory
    where house_id is not null
),

units as (
    select house_id
    from core_unit
),

live_contracts as (
    select
        house_id,
        max(case when state in ('已备案', '已领证', '变更') then 2 else 1 end) as live_rank,
        max(contract_no) as contract_no
    from core_contract
    where contract_type <> '认购'
        and state not in ('撤销', '待签')
    group by house_id
),

compared as (
    select
        inventory.permit_no,
        inventory.unit_code,
        inventory.house_id,
        inventory.sale_state,
        live_contracts.contract_no,
        case live_contracts.live_rank when 2 then '已备案' when 1 then '已签' else '可售' end as contract_sale_state
    from inventory
    inner join units on units.house_id = inventory.house_id
    left join live_contracts on live_contracts.house_id = inventory.house_id
),

final as (
    select *
    from compared
    where sale_state <> contract_sale_state
        and not (sale_state in ('限制', '不可售') and contract_no is null)
)

select * from final
order by permit_no, unit_code
