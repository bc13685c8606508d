-- handovers_late: main contracts (预售, 现售), signed and not cancelled, whose delivery date (the one
-- the contract names) is before :as_of_on, with no handover on or before that day.
with contracts as (
    select
        contract_no,
        house_id,
        delivery_on
    from core_contract
    where contract_type in ('预售', '现售')
        and state <> '撤销'
        and signed_at is not null
        and delivery_on < :as_of_on
),

handed as (
    select contract_no
    from core_handover
    where handed_over_on <= :as_of_on
),

final as (
    select
        c.contract_no,
        c.house_id,
        c.delivery_on
    from contracts as c
    left join handed as h
        on h.contract_no = c.contract_no
    where h.contract_no is null
)

select * from final
order by delivery_on, contract_no
