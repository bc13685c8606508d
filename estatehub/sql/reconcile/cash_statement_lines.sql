-- The cash reconciliation's bank side: every current statement line of the collection accounts booked
-- in the window (the period widened by the matching window), signed (money in +, money out -), keyed
-- by its account (the engine's `unit`: one account is matched against the same account). Its text is the
-- payer's name (what the ledger's payer is compared with), or the bank's summary and memo where the line
-- has no payer (fees, interest: what finance's rules read). Its party is the payer alone (none for a fee
-- or interest line), which tier 2 compares first.
select 'line:' || line_key as id,
       case when direction = 'in' then amount_fen else -amount_fen end as amount_fen,
       booked_on as "on",
       account_no as unit,
       coalesce(nullif(trim(counterparty_name), ''), trim(coalesce(summary, '') || ' ' || coalesce(memo, ''))) as text,
       trim(coalesce(summary, '') || ' ' || coalesce(memo, '')) as memo,
       nullif(trim(counterparty_name), '') as party,
       account_no,
       bank,
       direction
from core_bank_statement_line
where is_current = true and booked_on between :from_on and :to_on
order by id
