-- 诚意金 received in the period and not carried into the price (no voucher moved it out of 其他应付款,
-- core_deposit) although the buyer went on with the purchase: its customer has since paid a 定金 (by the
-- customer, the ledger's auxiliary accounting, since the 诚意金 and the 定金 may be linked to the
-- subscription and to the contract that followed it), or the contract it is linked to is signed and not
-- cancelled (the 定金 itself may be booked to another customer). The 诚意金 should have become part of
-- the 定金 (诚意金转定金); it still sits among other payables.
with deposits as (
    select d.bill_no, d.received_on, d.amount_fen, d.customer_code, r.contract_no
    from core_deposit d
    join core_receipt r on r.bill_id = d.bill_id
    where d.is_converted = false and d.is_voided = false and r.contract_no is not null
      and d.customer_code is not null and d.received_on between :from_on and :to_on
),

went_on as (
    select d.bill_no, k.contract_no
    from deposits d
    join core_receipt k
      on k.customer_code = d.customer_code and k.payment_kind = '定金' and k.is_voided = false
     and k.receipt_on >= d.received_on
    union all
    select d.bill_no, c.contract_no
    from deposits d
    join core_contract c on c.contract_no = d.contract_no
    where c.signed_at is not null and c.state <> '撤销'
),

deposit_contracts as (
    select bill_no, min(contract_no) as deposit_contract_no
    from went_on
    group by bill_no
),

final as (
    select d.bill_no, d.received_on, d.amount_fen, d.contract_no, c.deposit_contract_no
    from deposits d
    join deposit_contracts c on c.bill_no = d.bill_no
)

select * from final
order by bill_no
