-- Full invoices (501, at handover) dated in the period against the final price of their contract: the
-- contract's price with its area true-up (补差 lines of the payment plan, negative where the buyer
-- gets money back). A full invoice must cover the whole final price, not what happened to be received.
with trueups as (
    select contract_no, sum(amount_fen) as trueup_fen
    from core_payment_plan
    where kind = '补差'
    group by contract_no
),

full_invoices as (
    select invoice_no, invoice_on, amount_fen, contract_no, customer_name
    from core_invoice
    where is_red = false and is_voided = false and tax_code like '501%' and contract_no is not null
      and invoice_on between :from_on and :to_on
),

final as (
    select f.invoice_no, f.invoice_on, f.amount_fen, f.contract_no, f.customer_name,
           c.total_price_fen + coalesce(t.trueup_fen, 0) as final_price_fen
    from full_invoices f
    join core_contract c on c.contract_no = f.contract_no
    left join trueups t on t.contract_no = f.contract_no
    where f.amount_fen <> c.total_price_fen + coalesce(t.trueup_fen, 0)
)

select * from final
order by invoice_no
