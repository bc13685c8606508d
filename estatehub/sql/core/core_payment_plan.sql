-- core_payment_plan: each contract's payment plan, in integer fen (after core_payment_plan__delete).
with plan as (
    select *
    from stg_tn_payment_plan
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        seq,
        kind,
        due_on,
        amount_fen,
        bank
    from plan
)

insert into core_payment_plan (contract_no, seq, kind, due_on, amount_fen, bank)
select * from final
