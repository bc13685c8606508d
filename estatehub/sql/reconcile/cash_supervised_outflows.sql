-- Money out of a supervised account (预售资金监管账户): every current statement line paid out of an account
-- the banks list as supervised, in the period. Each must be covered by a supervision record of the
-- bank (a refund approval or a release, 拨付); the caller matches them.
select 'line:' || l.line_key as id, l.bank, l.account_no, l.booked_on, l.amount_fen,
       trim(coalesce(l.counterparty_name, '') || ' ' || coalesce(l.summary, '') || ' ' || coalesce(l.memo, '')) as text,
       a.permit_no
from core_bank_statement_line l
join core_bank_account a on a.account_no = l.account_no
where l.is_current = true
  and l.direction = 'out'
  and a.account_type = 'supervised'
  and l.booked_on between :from_on and :to_on
order by id
