-- Pre-sale invoices (602) still standing after the contract's full invoice (501, at handover): the full
-- invoice covers the whole price, so each 602 invoice of the contract is to be red-reversed (a red
-- invoice naming it as its blue one). Full invoices dated in the period.
with full_invoices as (
    select contract_no, min(invoice_on) as full_invoice_on
    from core_invoice
    where is_red = false and is_voided = false and tax_code like '501%' and contract_no is not null
    group by contract_no
),

reversed as (
    select distinct blue_invoice_no as invoice_no
    from core_invoice
    where is_red = true and is_voided = false and blue_invoice_no is not null
),

final as (
    select i.invoice_no, i.invoice_on, i.amount_fen, i.contract_no, i.customer_name, f.full_invoice_on
    from core_invoice i
    join full_invoices f on f.contract_no = i.contract_no
    left join reversed r on r.invoice_no = i.invoice_no
    where i.is_red = false and i.is_voided = false and i.tax_code like '602%' and r.invoice_no is null
      and f.full_invoice_on between :from_on and :to_on
)

select * from final
order by invoice_no
