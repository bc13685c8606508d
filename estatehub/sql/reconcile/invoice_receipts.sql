-- Receipts of sale proceeds up to the day and the invoice (not red) issued for each, if any. Money on
-- a contract the network shows cancelled is to be refunded, not invoiced (the contract checks list it),
-- unless the contract has a successor (a rename or a room change), which carries the money on.
with successors as (
    select distinct previous_contract_no as contract_no
    from core_contract
    where previous_contract_no is not null
),

final as (
    select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.purpose, r.contract_no, r.customer_name,
           i.invoice_no, i.invoice_type
    from core_receipt r
    left join core_invoice i on i.source_bill_no = r.bill_no and i.is_red = false and i.is_voided = false
    left join core_contract c on c.contract_no = r.contract_no
    left join successors s on s.contract_no = r.contract_no
    where r.is_voided = false and r.amount_fen > 0 and r.receipt_on between :from_on and :to_on
      and (c.state is null or c.state <> '撤销' or s.contract_no is not null)
)

select * from final
order by bill_no
