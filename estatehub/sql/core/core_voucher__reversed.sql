-- core_voucher: mark the vouchers that the red vouchers of :batch_id reverse (after core_voucher).
with batch_vouchers as (
    select voucher_id
    from stg_fl_voucher_line
    where batch_id = :batch_id
),

batch_reversals as (
    select
        voucher_id,
        reversed_voucher_id
    from core_voucher
    where reversed_voucher_id is not null
        and voucher_id in (select voucher_id from batch_vouchers)
)

update core_voucher
set reversed_by_voucher_id = batch_reversals.voucher_id
from batch_reversals
where core_voucher.voucher_id = batch_reversals.reversed_voucher_id
