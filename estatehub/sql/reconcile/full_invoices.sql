-- The day of each contract's full invoice (501, at handover; the first, not red, not voided): it covers
-- the whole price, so the pre-sale 602 invoices are red-reversed then and later receipts need no 602.
select contract_no, min(invoice_on) as full_invoice_on
from core_invoice
where is_red = false and is_voided = false and tax_code like '501%' and contract_no is not null
group by contract_no
order by contract_no
