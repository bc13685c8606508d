-- Advance invoices (收据 and 预收款发票, tax classification 602) not red and not voided in the period
-- whose source receipt the ledger does not hold, or holds voided. The full invoice at handover (501)
-- covers the price, not one receipt: it is judged against the final price instead.
select i.invoice_no, i.invoice_type, i.invoice_on, i.amount_fen, i.source_bill_no, i.contract_no, i.customer_name
from core_invoice i
left join core_receipt r on r.bill_no = i.source_bill_no and r.is_voided = false
where i.is_red = false and i.is_voided = false and r.bill_id is null
  and (i.invoice_type in ('收据', '预收款发票') or i.tax_code like '602%')
  and i.invoice_on between :from_on and :to_on
order by i.invoice_no
