-- kpi_filings (备案): every main contract (预售, 现售) signed by :as_of_at with when it was filed and
-- cancelled (as far as known by :as_of_at). The report counts the filings of a period, the filing
-- rate of the contracts signed in it (filed by the period's end), and the late ones: contracts whose
-- filing deadline (the city rule's days after signing) passed in the period without a filing.
with contracts as (
    select
        contract_no,
        house_id,
        signed_at,
        case when filed_at < :as_of_at then filed_at end as filed_at,
        case when cancelled_at < :as_of_at then cancelled_at end as cancelled_at
    from core_contract
    where contract_type in ('预售', '现售') and signed_at is not null and signed_at < :as_of_at
),

final as (
    select
        contracts.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        contracts.signed_at,
        contracts.filed_at,
        contracts.cancelled_at
    from contracts
    inner join core_unit as units on units.house_id = contracts.house_id
)

select * from final
order by signed_at, contract_no
