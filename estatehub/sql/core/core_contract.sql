-- core_contract: one row per contract, its current version (staging keeps only the newest).
-- Incremental by batch: the contracts staged in :batch_id.
with staged as (
    select *
    from stg_tn_contract
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        contract_type,
        state,
        house_id,
        unit_price_fen,
        total_price_fen,
        deposit_fen,
        payment_method,
        refund_days,
        delivery_on,
        registration_days,
        subscription_no,
        previous_contract_no,
        planned_signing_on,
        signed_at,
        filed_at,
        cancelled_at,
        cancel_reason_code,
        cancel_reason,
        updated_at
    from staged
)

insert into core_contract (
    contract_no, contract_type, state, house_id, unit_price_fen, total_price_fen, deposit_fen,
    payment_method, refund_days, delivery_on, registration_days, subscription_no, previous_contract_no,
    planned_signing_on, signed_at, filed_at,
    cancelled_at, cancel_reason_code, cancel_reason, updated_at
)
select * from final
where true
on conflict (contract_no) do update set
    contract_type = excluded.contract_type,
    state = excluded.state,
    house_id = excluded.house_id,
    unit_price_fen = excluded.unit_price_fen,
    total_price_fen = excluded.total_price_fen,
    deposit_fen = excluded.deposit_fen,
    payment_method = excluded.payment_method,
    refund_days = excluded.refund_days,
    delivery_on = excluded.delivery_on,
    registration_days = excluded.registration_days,
    subscription_no = excluded.subscription_no,
    previous_contract_no = excluded.previous_contract_no,
    planned_signing_on = excluded.planned_signing_on,
    signed_at = excluded.signed_at,
    filed_at = excluded.filed_at,
    cancelled_at = excluded.cancelled_at,
    cancel_reason_code = excluded.cancel_reason_code,
    cancel_reason = excluded.cancel_reason,
    updated_at = excluded.updated_at
where excluded.updated_at >= core_contract.updated_at
