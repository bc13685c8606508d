-- core_voucher: the vouchers of the lines staged in :batch_id, one row per voucher. Voided vouchers stay,
-- marked; which voucher a red one reverses is set by core_voucher__reverses.sql right after.
with batch_lines as (
    select *
    from stg_fl_voucher_line
    where batch_id = :batch_id
),

headers as (
    select
        voucher_id,
        max(voucher_group) as voucher_group,
        max(voucher_number) as voucher_number,
        max(year) as year,
        max(period) as period,
        max(voucher_on) as voucher_on,
        max(source_bill_no) as source_bill_no,
        min(case when is_audited then 1 else 0 end) as audited_flag,
        max(case when is_voided then 1 else 0 end) as voided_flag,
        max(reverses_number) as reverses_number,
        min(created_at) as created_at,
        max(modified_at) as modified_at
    from batch_lines
    group by voucher_id
),

final as (
    select
        headers.voucher_id,
        headers.voucher_group,
        headers.voucher_number,
        headers.year,
        headers.period,
        headers.voucher_on,
        headers.source_bill_no,
        headers.audited_flag = 1 as is_audited,
        headers.voided_flag = 1 as is_voided,
        headers.reverses_number is not null as is_reversal,
        cast(null as bigint) as reversed_voucher_id,
        headers.created_at,
        headers.modified_at
    from headers
)

insert into core_voucher (
    voucher_id, voucher_group, voucher_number, year, period, voucher_on, source_bill_no, is_audited, is_voided,
    is_reversal, reversed_voucher_id, created_at, modified_at
)
select * from final where true
on conflict (voucher_id) do update set
    voucher_group = excluded.voucher_group,
    voucher_number = excluded.voucher_number,
    year = excluded.year,
    period = excluded.period,
    voucher_on = excluded.voucher_on,
    source_bill_no = excluded.source_bill_no,
    is_audited = excluded.is_audited,
    is_voided = excluded.is_voided,
    is_reversal = excluded.is_reversal,
    reversed_voucher_id = core_voucher.reversed_voucher_id,
    created_at = excluded.created_at,
    modified_at = excluded.modified_at
