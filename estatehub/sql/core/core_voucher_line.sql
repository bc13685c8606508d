-- core_voucher_line: the voucher entries staged in :batch_id, with what their memo names (after core_voucher).
with batch_lines as (
    select *
    from stg_fl_voucher_line
    where batch_id = :batch_id
),

final as (
    select
        entry_id,
        voucher_id,
        seq,
        voucher_on,
        memo,
        account_no,
        account_name,
        bank_account_no,
        debit_fen,
        credit_fen,
        customer_code,
        customer_name,
        phase_code,
        is_voided,
        payment_kind,
        memo_units,
        memo_confidence
    from batch_lines
)

insert into core_voucher_line (
    entry_id, voucher_id, seq, voucher_on, memo, account_no, account_name, bank_account_no, debit_fen, credit_fen,
    customer_code, customer_name, phase_code, is_voided, payment_kind, memo_units, memo_confidence
)
select * from final where true
on conflict (entry_id) do update set
    voucher_id = excluded.voucher_id,
    seq = excluded.seq,
    voucher_on = excluded.voucher_on,
    memo = excluded.memo,
    account_no = excluded.account_no,
    account_name = excluded.account_name,
    bank_account_no = excluded.bank_account_no,
    debit_fen = excluded.debit_fen,
    credit_fen = excluded.credit_fen,
    customer_code = excluded.customer_code,
    customer_name = excluded.customer_name,
    phase_code = excluded.phase_code,
    is_voided = excluded.is_voided,
    payment_kind = excluded.payment_kind,
    memo_units = excluded.memo_units,
    memo_confidence = excluded.memo_confidence
