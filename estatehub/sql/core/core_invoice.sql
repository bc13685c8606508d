-- core_invoice: the invoices staged in :batch_id (收据, 602 预收款发票, final VAT invoices; red ones negative).
-- Linked to a contract through their receipt, else their remark, by estatehub.ledger.link at the end of
-- the sync; a row that comes again loses its link here, to be linked anew.
with batch_invoices as (
    select *
    from stg_fl_invoice
    where batch_id = :batch_id
),

final as (
    select
        invoice_id,
        bill_no,
        invoice_type,
        invoice_no,
        invoice_on,
        customer_code,
        customer_name,
        tax_code,
        tax_rate,
        amount_fen,
        tax_fen,
        is_red,
        blue_invoice_no,
        source_bill_no,
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
    from batch_invoices
)

insert into core_invoice (
    invoice_id, bill_no, invoice_type, invoice_no, invoice_on, customer_code, customer_name, tax_code, tax_rate,
    amount_fen, tax_fen, is_red, blue_invoice_no, source_bill_no, remark, phase_code, is_audited, is_voided,
    created_at, modified_at, payment_kind, memo_units, memo_confidence, memo_rule
)
select * from final where true
on conflict (invoice_id) do update set
    bill_no = excluded.bill_no,
    invoice_type = excluded.invoice_type,
    invoice_no = excluded.invoice_no,
    invoice_on = excluded.invoice_on,
    customer_code = excluded.customer_code,
    customer_name = excluded.customer_name,
    tax_code = excluded.tax_code,
    tax_rate = excluded.tax_rate,
    amount_fen = excluded.amount_fen,
    tax_fen = excluded.tax_fen,
    is_red = excluded.is_red,
    blue_invoice_no = excluded.blue_invoice_no,
    source_bill_no = excluded.source_bill_no,
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
