-- handovers_undated: how many main contracts, signed before :cutoff_at and not cancelled, have no
-- handover by :as_of_on and name no delivery date: the handover list cannot judge them.
with contracts as (
    select contract_no
    from core_contract
    where contract_type in ('预售', '现售')
        and state <> '撤销'
        and signed_at < :cutoff_at
        and delivery_on is null
),

handed as (
    select contract_no
    from core_handover
    where handed_over_on <= :as_of_on
),

final as (
    select count(*) as undated_count
    from contracts as c
    left join handed as h
        on h.contract_no = c.contract_no
    where h.contract_no is null
)

select * from final
