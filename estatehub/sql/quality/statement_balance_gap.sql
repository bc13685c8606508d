-- Gate `statement_balance_follows` (error): on each collection account, every current statement line's
-- balance is the balance before it plus or minus its amount. A gap means a line or a whole file is
-- missing (or loaded twice) between the two lines named. Lines without a balance are not judged.
select account_no as subject, booked_on, prev_booked_on, balance_fen, prev_balance_fen,
       balance_fen - prev_balance_fen - signed_fen as gap_fen
from (
    select account_no, booked_on, balance_fen,
           case when direction = 'in' then amount_fen else -amount_fen end as signed_fen,
           lag(balance_fen) over w as prev_balance_fen,
           lag(booked_on) over w as prev_booked_on
    from core_bank_statement_line
    where is_current = true and balance_fen is not null and booked_on <= :as_of_on
    window w as (partition by account_no order by booked_on, booked_time, file_id, line_no)
) chained
where prev_balance_fen is not null and prev_balance_fen + signed_fen <> balance_fen
order by account_no, booked_on
