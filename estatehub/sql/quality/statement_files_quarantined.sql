-- Gate `statement_files_quarantined` (warning): statement files the hub kept but could not load; their
-- lines are missing from the cash reconciliation until a person imports them in a way that reads them.
select f.file_name as subject, f.period_end_on as booked_on, f.reason
from etl_bank_statement_file f
where f.status = 'quarantined'
  and not exists (
      select 1 from etl_bank_statement_file loaded
      where loaded.bank = f.bank and loaded.file_name = f.file_name and loaded.status = 'loaded'
  )
order by f.file_name
