-- subscriptions_unsigned: 认购 agreements past their planned signing date (before :as_of_on), not
-- cancelled, from which no main contract (预售, 现售) was signed before :cutoff_at (the end of the day).
with subscriptions as (
    select
        contract_no,
        house_id,
        planned_signing_on,
        deposit_fen
    from core_contract
    where contract_type = '认购'
        and state <> '撤销'
        and planned_signing_on < :as_of_on
),

signed_from as (
    select distinct subscription_no
    from core_contract
    where contract_type in ('预售', '现售')
        and subscription_no is not null
        and signed_at < :cutoff_at
),

final as (
    select
        s.contract_no,
        s.house_id,
        s.planned_signing_on,
        s.deposit_fen
    from subscriptions as s
    left join signed_from as f
        on f.subscription_no = s.contract_no
    where f.subscription_no is null
)

select * from final
order by planned_signing_on, contract_no
