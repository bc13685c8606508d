-- kpi_open_breaks (未结对账差异): the reconciliations' breaks not resolved (open or acknowledged), one row
-- each with its reconciliation, the day it was found, its age and amount.
with breaks as (
    select
        break_key,
        reconciliation,
        reason,
        status,
        opened_on,
        age_days,
        amount_fen
    from rec_break
    where status <> 'resolved'
),

final as (
    select * from breaks
)

select * from final
order by reconciliation, break_key
