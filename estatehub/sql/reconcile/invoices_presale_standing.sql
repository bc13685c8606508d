-- Pre-sale invoices (602) of a contract, not red, not voided, that no red invoice names as its blue one:
-- still standing. After the contract's full invoice (reconcile/full_invoices) each is to be red-reversed.
with reversed as (
    select distinct blue_invoice_no as invoice_no
    from core_invoice
    where is_red = true and is_voided = false and blue_invoice_no is not null
),

final as (
    select i.invoice_no, i.invoice_on, i.amount_fen, i.contract_no, i.customer_name
    from core_invoice i
    left join reversed r on r.invoice_no = i.invoice_no
    where i.is_red = false and i.is_voided = false and i.tax_code like '602%' and i.contract_no is not null
      and r.invoice_no is null
)

select * from final
order by invoice_no
