-- The customers each bank-deposit (银行存款) entry of the period stands for: the customer names on the other
-- lines of its voucher. A batch the clerk booked as one bank entry (three borrowers' disbursements of one
-- day, 10,650,000.00 in one line) names each borrower on a line of its own; the bank's statement shows each
-- disbursement on its own line naming its borrower, which is how the cash reconciliation finds the parts.
with final as (
    select distinct b.entry_id, o.customer_name
    from core_voucher_line b
    join core_voucher_line o on o.voucher_id = b.voucher_id and o.entry_id <> b.entry_id
    where b.bank_account_no is not null
      and o.bank_account_no is null
      and o.customer_name is not null
      and b.is_voided = false
      and o.is_voided = false
      and b.voucher_on between :from_on and :to_on
)

select entry_id, customer_name from final
order by entry_id, customer_name
