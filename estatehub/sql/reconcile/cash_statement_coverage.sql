-- How far each collection account's statements reach: the last day of its loaded statement files. A
-- ledger entry after it is in transit (the bank's statement of that day has not come yet), not a break.
select account_no, max(period_end_on) as covered_to_on
from etl_bank_statement_file
where status = 'loaded' and account_no is not null
group by account_no
order by account_no
