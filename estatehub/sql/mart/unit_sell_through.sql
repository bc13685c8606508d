-- unit_sell_through: 去化率 by project and product type (usage) at :cutoff_at, from the building
-- tables' sale-state history: sold units (已签 or 已备案) over units for sale (可售, 已签, 已备案; a
-- 限制 unit — sealed — and a 不可售 unit are not for sale), and the same in 建筑面积. The rate is
-- sold_count / for_sale_count, computed by the reader (no division here: exact, and no zero to
-- divide by). A far-future cutoff gives the current state.
with units as (
    select
        permit_no,
        unit_code,
        project_code,
        project_name,
        usage,
        building_area
    from core_unit_inventory
),

history as (
    select
        permit_no,
        unit_code,
        sale_state,
        valid_from,
        valid_to
    from core_unit_inventory_state_history
),

state_at_cutoff as (
    select
        permit_no,
        unit_code,
        sale_state
    from history
    where valid_from <= :cutoff_at
        and (valid_to is null or valid_to > :cutoff_at)
),

unit_states as (
    select
        units.project_code,
        units.project_name,
        units.usage,
        units.building_area,
        state_at_cutoff.sale_state,
        case when state_at_cutoff.sale_state in ('可售', '已签', '已备案') then 1 else 0 end as for_sale,
        case when state_at_cutoff.sale_state in ('已签', '已备案') then 1 else 0 end as sold
    from units
    inner join state_at_cutoff
        on state_at_cutoff.permit_no = units.permit_no
        and state_at_cutoff.unit_code = units.unit_code
),

final as (
    select
        project_code,
        max(project_name) as project_name,
        usage,
        count(*) as unit_count,
        sum(for_sale) as for_sale_count,
        sum(sold) as sold_count,
        sum(case when sale_state = '限制' then 1 else 0 end) as restricted_count,
        sum(case when sale_state = '不可售' then 1 else 0 end) as not_for_sale_count,
        sum(case when for_sale = 1 then building_area else 0 end) as for_sale_area,
        sum(case when sold = 1 then building_area else 0 end) as sold_area
    from unit_states
    group by project_code, usage
)

select * from final
order by project_code, usage
