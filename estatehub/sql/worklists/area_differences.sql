-- area_differences: units of live main contracts handed over by :as_of_on, with the area the contract
-- sold and the as-built area, and whether the true-up (补差) is settled in the receivables mart
-- (every 补差 line paid: the buyer kept the unit and the money moved).
with handovers as (
    select
        contract_no,
        handed_over_on,
        as_built_area,
        area_diff_fen
    from core_handover
    where handed_over_on <= :as_of_on
),

contracts as (
    select
        c.contract_no,
        c.house_id,
        u.building_area as contract_area
    from core_contract as c
    inner join core_unit as u
        on u.house_id = c.house_id
    where c.contract_type in ('预售', '现售')
        and c.state <> '撤销'
),

true_up as (
    select
        contract_no,
        count(*) as line_count,
        sum(case when state in ('paid', 'overpaid') then 1 else 0 end) as settled_count
    from rec_receivable
    where kind = '补差'
    group by contract_no
),

final as (
    select
        c.contract_no,
        c.house_id,
        c.contract_area,
        h.as_built_area,
        h.area_diff_fen,
        h.handed_over_on,
        coalesce(t.line_count, 0) > 0 and t.settled_count = t.line_count as is_true_up_settled
    from handovers as h
    inner join contracts as c
        on c.contract_no = h.contract_no
    left join true_up as t
        on t.contract_no = h.contract_no
)

select * from final
order by contract_no
