-- core_voucher: the voucher each red voucher of :batch_id reverses, read from its memo
-- ("冲销2026年2期记-0046号凭证": year, period and number of the original), after core_voucher.
with batch_reversals as (
    select
        voucher_id,
        max(voucher_group) as voucher_group,
        max(reverses_year) as reverses_year,
        max(reverses_period) as reverses_period,
        max(reverses_number) as reverses_number
    from stg_fl_voucher_line
    where batch_id = :batch_id
        and reverses_number is not null
    group by voucher_id
),

targets as (
    select
        batch_reversals.voucher_id,
        reversed.voucher_id as reversed_voucher_id
    from batch_reversals
    inner join core_voucher as reversed
        on reversed.year = batch_reversals.reverses_year
        and reversed.period = batch_reversals.reverses_period
        and reversed.voucher_number = batch_reversals.reverses_number
        and reversed.voucher_group = batch_reversals.voucher_group
)

update core_voucher
set reversed_voucher_id = targets.reversed_voucher_id
from targets
where core_voucher.voucher_id = targets.voucher_id
