-- registrations_open: main contracts, signed before :cutoff_at and not cancelled, whose property right
-- is not registered (办证) by :as_of_on, with what their registration deadline counts from: the
-- handover on or before the day (预售), the signing (现售), and the days the contract names.
with contracts as (
    select
        contract_no,
        contract_type,
        house_id,
        signed_at,
        registration_days
    from core_contract
    where contract_type in ('预售', '现售')
        and state <> '撤销'
        and signed_at < :cutoff_at
),

handovers as (
    select
        contract_no,
        handed_over_on
    from core_handover
    where handed_over_on <= :as_of_on
),

registered as (
    select contract_no
    from core_registration
    where registered_on <= :as_of_on
),

final as (
    select
        c.contract_no,
        c.contract_type,
        c.house_id,
        c.signed_at,
        c.registration_days,
        h.handed_over_on
    from contracts as c
    left join handovers as h
        on h.contract_no = c.contract_no
    left join registered as r
        on r.contract_no = c.contract_no
    where r.contract_no is null
        and (c.contract_type = '现售' or h.handed_over_on is not null)
)

select * from final
order by contract_no
