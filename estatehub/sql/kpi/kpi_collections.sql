-- kpi_collections (回款): sale proceeds received by :as_of_on, one row per receipt: receipts not
-- voided whose kind is a part of the price — 首付, 分期, 按揭 (shown as 商贷), 公积金, 一次性, 补差.
-- Left out: deposits (诚意金, 定金: held under 其他应付款 until converted), fees collected for others
-- (维修基金, 契税, 登记费: no sale kind), refunds (core_refund) and voided receipts. Project and
-- product type through the contract the receipt is linked to; unlinked receipts count under no project.
with receipts as (
    select
        bill_no,
        contract_no,
        receipt_on,
        amount_fen,
        case payment_kind when '按揭' then '商贷' else payment_kind end as collection_kind
    from core_receipt
    where is_voided = false
        and receipt_on <= :as_of_on
        and payment_kind in ('首付', '分期', '按揭', '公积金', '一次性', '补差')
),

final as (
    select
        receipts.bill_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        receipts.receipt_on as event_on,
        receipts.collection_kind,
        receipts.amount_fen
    from receipts
    left join core_contract as contracts on contracts.contract_no = receipts.contract_no
    left join core_unit as units on units.house_id = contracts.house_id
)

select * from final
order by event_on, bill_no
