-- core_refund: the refund bills staged in :batch_id (linked anew by estatehub.ledger.link at the end of the sync).
with batch_refunds as (
    select *
    from stg_fl_refund
    where batch_id = :batch_id
),

final as (
    select
        bill_id,
        bill_no,
        refund_on,
        customer_code,
        customer_name,
        payee,
        bank_account_no,
        amount_fen,
        remark,
        phase_code,
        is_audited,
        is_voided,
        created_at,
        modified_at,
        payment_kind,
        memo_units,
        memo_confidence,
        memo_rule
    from batch_refunds
)

insert into core_refund (
    bill_id, bill_no, refund_on, customer_code, customer_name, payee, bank_account_no, amount_fen, remark,
    phase_code, is_audited, is_voided, created_at, modified_at, payment_kind, memo_units, memo_confidence, memo_rule
)
select * from final where true
on conflict (bill_id) do update set
    bill_no = excluded.bill_no,
    refund_on = excluded.refund_on,
    customer_code = excluded.customer_code,
    customer_name = excluded.customer_name,
    payee = excluded.payee,
    bank_account_no = excluded.bank_account_no,
    amount_fen = excluded.amount_fen,
    remark = excluded.remark,
    phase_code = excluded.phase_code,
    is_audited = excluded.is_audited,
    is_voided = excluded.is_voided,
    created_at = excluded.created_at,
    modified_at = excluded.modified_at,
    payment_kind = excluded.payment_kind,
    memo_units = excluded.memo_units,
    memo_confidence = excluded.memo_confidence,
    memo_rule = excluded.memo_rule,
    contract_no = null,
    house_id = null,
    link_basis = null,
    link_confidence = null,
    linked_at = null
