-- Gate `keys_unique` (error): a bank serial appears once per collection account among current lines (a
-- file loaded twice under other line keys would repeat it), and a voucher number once per ledger
-- period and group among vouchers not voided.
select 'statement serial ' || account_no || ' ' || serial as subject, min(booked_on) as booked_on,
       count(*) as found_count
from core_bank_statement_line
where is_current = true and serial is not null and booked_on <= :as_of_on
group by account_no, serial
having count(*) > 1
union all
select 'voucher ' || cast(year as varchar) || '-' || cast(period as varchar) || ' ' || voucher_group || '-'
       || cast(voucher_number as varchar) as subject,
       min(voucher_on) as booked_on, count(*) as found_count
from core_voucher
where is_voided = false and voucher_on <= :as_of_on
group by year, period, voucher_group, voucher_number
having count(*) > 1
order by subject
