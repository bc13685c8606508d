-- Receipts of sale proceeds up to the day and the invoice (not red) issued for each, if any. Money on
-- a contract the network shows cancelled is to be refunded, not invoiced (the contract checks list it).
select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.customer_name,
       i.invoice_no, i.invoice_type
from core_receipt r
left join core_invoice i on i.source_bill_no = r.bill_no and i.is_red = false and i.is_voided = false
left join core_contract c on c.contract_no = r.contract_no
where r.is_voided = false and r.amount_fen > 0 and r.receipt_on between :from_on and :to_on
  and (c.state is null or c.state <> '撤销')
order by r.bill_no
