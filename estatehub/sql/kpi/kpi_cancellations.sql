-- kpi_cancellations (退房 / 换房 / 更名): every main contract (预售, 现售) cancelled (撤销) by
-- :as_of_at, one row each, with what became of it: 退房 when nothing replaced it; 换房 when a contract
-- replacing it (naming it as previous_contract_no) is on another unit; 更名 when the replacement is on
-- the same unit and the network's reason is 增减权益人 (buyers added, removed or changed); 重签 when it
-- is on the same unit for another reason (a contract corrected: 输入错误, 楼盘表调整 ...). Amount: the
-- cancelled contract's price.
with cancelled as (
    select
        contract_no,
        house_id,
        cancelled_at,
        cancel_reason_code,
        total_price_fen
    from core_contract
    where contract_type in ('预售', '现售') and cancelled_at is not null and cancelled_at < :as_of_at
),

replacements as (
    select
        previous_contract_no,
        min(house_id) as house_id
    from core_contract
    where previous_contract_no is not null
    group by previous_contract_no
),

final as (
    select
        cancelled.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        cancelled.cancelled_at as event_at,
        case
            when replacements.previous_contract_no is null then '退房'
            when replacements.house_id <> cancelled.house_id then '换房'
            when cancelled.cancel_reason_code = '增减权益人' then '更名'
            else '重签'
        end as change_kind,
        cancelled.total_price_fen as amount_fen
    from cancelled
    inner join core_unit as units on units.house_id = cancelled.house_id
    left join replacements on replacements.previous_contract_no = cancelled.contract_no
)

select * from final
order by event_at, contract_no
