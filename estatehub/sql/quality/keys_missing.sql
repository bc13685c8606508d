-- Gate `keys_present` (error): what the cash reconciliation joins on is there: every current statement
-- line names its collection account.
select 'statement line without account' as subject, file_name || ' line ' || cast(line_no as varchar) as detail
from core_bank_statement_line l
join etl_bank_statement_file f on f.file_id = l.file_id
where l.is_current = true and (l.account_no is null or l.account_no = '') and l.booked_on <= :as_of_on
order by detail
