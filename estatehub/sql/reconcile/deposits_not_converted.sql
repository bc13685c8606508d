-- 诚意金 received in the period and not carried into the price (no voucher moved it out of 其他应付款,
-- core_deposit) although its customer has since paid a 定金: the buyer went on with the purchase, so the
-- 诚意金 should have become part of the 定金 (诚意金转定金); it still sits among other payables. By the
-- customer (the ledger's auxiliary accounting), since the 诚意金 and the 定金 may be linked to the
-- subscription and to the contract that followed it.
with deposits as (
    select d.bill_no, d.received_on, d.amount_fen, d.customer_code, r.contract_no
    from core_deposit d
    join core_receipt r on r.bill_id = d.bill_id
    where d.is_converted = false and d.is_voided = false and r.contract_no is not null
      and d.customer_code is not null and d.received_on between :from_on and :to_on
),

deposit_contracts as (
    select d.bill_no, min(k.contract_no) as deposit_contract_no
    from deposits d
    join core_receipt k
      on k.customer_code = d.customer_code and k.payment_kind = '定金' and k.is_voided = false
     and k.receipt_on >= d.received_on
    group by d.bill_no
),

final as (
    select d.bill_no, d.received_on, d.amount_fen, d.contract_no, c.deposit_contract_no
    from deposits d
    join deposit_contracts c on c.bill_no = d.bill_no
)

select * from final
order by bill_no
