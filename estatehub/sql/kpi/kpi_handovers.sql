-- kpi_handovers (交房 / 办证): every live main contract (预售, 现售) signed by :as_of_at with its
-- handover day and certificate day where known by :as_of_on. The report counts handovers and
-- certificates of a period and the certificate rate of the units handed over; late: handed over and
-- no certificate 90 days later (the deadline where the contract names none).
with contracts as (
    select
        contract_no,
        house_id
    from core_contract
    where contract_type in ('预售', '现售') and signed_at < :as_of_at
        and (cancelled_at is null or cancelled_at >= :as_of_at)
),

final as (
    select
        contracts.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        case when handovers.handed_over_on <= :as_of_on then handovers.handed_over_on end as handed_over_on,
        case when registrations.registered_on <= :as_of_on then registrations.registered_on end as registered_on
    from contracts
    inner join core_unit as units on units.house_id = contracts.house_id
    left join core_handover as handovers on handovers.contract_no = contracts.contract_no
    left join core_registration as registrations on registrations.contract_no = contracts.contract_no
)

select * from final
order by contract_no
