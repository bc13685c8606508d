-- kpi_signings (签约): every main contract (预售, 现售) signed on the network by :as_of_at, one row
-- each, with its project, product type, area and price. Gross: a contract later cancelled (退房, 换房,
-- 更名) still counts in the period it was signed; its cancellation counts in kpi_cancellations.
with contracts as (
    select
        contract_no,
        house_id,
        signed_at,
        total_price_fen
    from core_contract
    where contract_type in ('预售', '现售') and signed_at is not null and signed_at < :as_of_at
),

final as (
    select
        contracts.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        contracts.signed_at as event_at,
        units.building_area as building_area,
        contracts.total_price_fen as amount_fen
    from contracts
    inner join core_unit as units on units.house_id = contracts.house_id
)

select * from final
order by event_at, contract_no
