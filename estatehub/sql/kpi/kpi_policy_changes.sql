-- kpi_policy_changes (政策变化): every change the policy monitor detected on the bureau's site by
-- :as_of_at (a notice new, changed, with a changed attachment, or withdrawn), with its urgency.
with changes as (
    select
        change_id,
        watch_id,
        kind,
        title,
        urgency,
        detected_at as event_at
    from core_policy_change
    where detected_at < :as_of_at
),

final as (
    select * from changes
)

select * from final
order by event_at, change_id
