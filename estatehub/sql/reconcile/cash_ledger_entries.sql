-- The cash reconciliation's ledger side: every bank-deposit (银行存款) entry that names its bank account,
-- of a voucher not voided, signed (debit = money in +, credit = money out -). A voucher corrected by
-- red reversal (冲销) and booked again: the original and its red voucher cancel each other and leave the
-- comparison; the new voucher of the same bill carries the original's date, the day the money moved.
-- Each entry carries the receipt or refund of its voucher (payer, contract, kind) where there is one; its
-- text is the payer's name (or the memo where no bill names one); the customer of its bill is the
-- borrower where a lender paid.
with reversed as (
    select source_bill_no, min(voucher_on) as moved_on
    from core_voucher
    where reversed_by_voucher_id is not null and source_bill_no is not null
    group by source_bill_no
),

entries as (
    select l.entry_id, l.debit_fen - l.credit_fen as amount_fen, coalesce(r.moved_on, l.voucher_on) as moved_on,
           l.voucher_on, l.bank_account_no, l.memo, l.customer_name, v.source_bill_no
    from core_voucher_line l
    join core_voucher v on v.voucher_id = l.voucher_id
    left join reversed r on r.source_bill_no = v.source_bill_no
    where l.bank_account_no is not null
      and l.is_voided = false
      and v.is_voided = false
      and v.is_reversal = false
      and v.reversed_by_voucher_id is null
),

final as (
    select e.entry_id, e.amount_fen, e.moved_on, e.bank_account_no, e.memo,
           coalesce(rc.payer, rf.payee, rc.customer_name, rf.customer_name, e.customer_name) as payer,
           coalesce(rc.customer_name, rf.customer_name) as customer_name,
           coalesce(rc.contract_no, rf.contract_no) as contract_no,
           coalesce(rc.bill_no, rf.bill_no) as bill_no,
           case when rf.bill_no is not null then '退款' else rc.payment_kind end as payment_kind
    from entries e
    left join core_receipt rc on rc.bill_no = e.source_bill_no and rc.is_voided = false
    left join core_refund rf on rf.bill_no = e.source_bill_no and rf.is_voided = false
    where e.moved_on between :from_on and :to_on
)

select entry_id, amount_fen, moved_on as "on", bank_account_no as unit, coalesce(payer, memo) as text, memo,
       payer, customer_name, contract_no, bill_no, payment_kind
from final
order by entry_id
