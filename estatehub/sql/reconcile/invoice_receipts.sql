-- Receipts of sale proceeds up to the day and the invoice (not red) issued for each, if any. Money on
-- a contract the network shows cancelled is to be refunded, not invoiced (the contract checks list it).
-- Once the full invoice of a contract is out (501, at handover), it covers the whole price: a receipt
-- of that contract without a 602 invoice of its own is covered by it (`invoice_type` the full one's).
with full_invoices as (
    select contract_no, min(invoice_no) as invoice_no, min(invoice_type) as invoice_type
    from core_invoice
    where is_red = false and is_voided = false and tax_code like '501%' and contract_no is not null
    group by contract_no
),

final as (
    select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.customer_name,
           coalesce(i.invoice_no, f.invoice_no) as invoice_no, coalesce(i.invoice_type, f.invoice_type) as invoice_type
    from core_receipt r
    left join core_invoice i on i.source_bill_no = r.bill_no and i.is_red = false and i.is_voided = false
    left join full_invoices f on f.contract_no = r.contract_no
    left join core_contract c on c.contract_no = r.contract_no
    where r.is_voided = false and r.amount_fen > 0 and r.receipt_on between :from_on and :to_on
      and (c.state is null or c.state <> '撤销')
)

select * from final
order by bill_no
