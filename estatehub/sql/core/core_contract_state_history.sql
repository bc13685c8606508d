-- core_contract_state_history: each state of each contract with the time it held, [valid_from,
-- valid_to); valid_to is the next change, null for the current state (after the __delete model).
with changes as (
    select *
    from stg_tn_state_change
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        seq,
        state,
        changed_at as valid_from,
        lead(changed_at) over (partition by contract_no order by seq) as valid_to,
        reason_code,
        reason
    from changes
)

insert into core_contract_state_history (contract_no, seq, state, valid_from, valid_to, reason_code, reason)
select * from final
