-- Gate `voucher_balanced` (error): every voucher that is not voided balances, its debits equal to its
-- credits. One row per voucher that does not.
select v.voucher_id as subject, v.voucher_on as booked_on,
       sum(l.debit_fen) as debit_fen, sum(l.credit_fen) as credit_fen
from core_voucher v
join core_voucher_line l on l.voucher_id = v.voucher_id
where v.is_voided = false and v.voucher_on <= :as_of_on
group by v.voucher_id, v.voucher_on
having sum(l.debit_fen) <> sum(l.credit_fen)
order by v.voucher_on, v.voucher_id
