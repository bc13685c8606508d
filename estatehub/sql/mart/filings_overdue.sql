-- filings_overdue: main contracts (预售, 现售) signed before :signed_before_at (the start of the
-- business day 30 days before the as-of day, in UTC), neither filed (备案) nor cancelled by
-- :cutoff_at (the end of the as-of day): filing is due within 30 days of signing.
with contracts as (
    select
        contract_no,
        contract_type,
        house_id,
        state,
        signed_at,
        filed_at,
        cancelled_at
    from core_contract
    where contract_type in ('预售', '现售')
),

final as (
    select
        contract_no,
        contract_type,
        house_id,
        state,
        signed_at
    from contracts
    where signed_at < :signed_before_at
        and (filed_at is null or filed_at >= :cutoff_at)
        and (cancelled_at is null or cancelled_at >= :cutoff_at)
)

select * from final
order by signed_at, contract_no
