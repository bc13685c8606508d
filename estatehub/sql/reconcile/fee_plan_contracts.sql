-- Contracts whose buyer pays the fees collected for others at handover (decision 0036): main contracts (预售,
-- 现售) handed over by the day the run is as of and not cancelled, with what the city's fee schedule reads:
-- the as-built area, the unit's usage, the final price (the contract's total and the area true-up, 补差)
-- and whether the primary buyer is a company.
select
    h.contract_no,
    h.handed_over_on,
    h.as_built_area,
    u.usage,
    c.total_price_fen + h.area_diff_fen as price_fen,
    coalesce(b.is_company, false) as is_company
from core_handover as h
inner join core_contract as c
    on c.contract_no = h.contract_no
left join core_unit as u
    on u.house_id = c.house_id
left join core_contract_buyer as cb
    on cb.contract_no = c.contract_no and cb.is_primary = true
left join core_buyer as b
    on b.id_hash = cb.id_hash
where h.handed_over_on <= :as_of_on
    and c.contract_type in ('预售', '现售')
    and c.state <> '撤销'
order by h.contract_no
