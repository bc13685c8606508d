-- list_sizes: each work list of the latest build: how many items, how many past their deadline, the
-- oldest deadline, and the day the build judged (for the supervisors' page).
with items as (
    select
        list_name,
        days_left,
        deadline_on,
        as_of_on
    from mart_work_item
),

final as (
    select
        list_name,
        count(*) as item_count,
        sum(case when days_left < 0 then 1 else 0 end) as late_count,
        min(deadline_on) as oldest_deadline_on,
        max(as_of_on) as as_of_on
    from items
    group by list_name
)

select * from final
order by list_name
