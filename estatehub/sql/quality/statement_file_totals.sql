-- Gate `statement_totals_loaded` (error): every loaded statement file's lines are in the warehouse,
-- their count and their credit and debit sums equal to what the file's reader counted.
select f.file_name as subject, f.period_end_on as booked_on,
       f.line_count - f.quarantined_count as expected_count, coalesce(l.line_count, 0) as loaded_count,
       f.credit_fen as expected_credit_fen, coalesce(l.credit_fen, 0) as loaded_credit_fen,
       f.debit_fen as expected_debit_fen, coalesce(l.debit_fen, 0) as loaded_debit_fen
from etl_bank_statement_file f
left join (
    select file_id, count(*) as line_count,
           sum(case when direction = 'in' then amount_fen else 0 end) as credit_fen,
           sum(case when direction = 'out' then amount_fen else 0 end) as debit_fen
    from core_bank_statement_line
    group by file_id
) l on l.file_id = f.file_id
where f.status = 'loaded'
  and (f.period_end_on is null or f.period_end_on <= :as_of_on)
  and (f.line_count - f.quarantined_count <> coalesce(l.line_count, 0)
       or f.credit_fen <> coalesce(l.credit_fen, 0)
       or f.debit_fen <> coalesce(l.debit_fen, 0))
order by f.file_name
