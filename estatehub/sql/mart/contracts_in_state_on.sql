-- contracts_in_state_on: the contracts in state :state at the end of a business day and not yet in
-- state :not_reached, from the state history. :cutoff_at is the first instant after the day
-- (00:00 Asia/Shanghai of the next day, in UTC); a state holds over [valid_from, valid_to).
with history as (
    select
        contract_no,
        state,
        valid_from,
        valid_to
    from core_contract_state_history
),

state_at_cutoff as (
    select
        contract_no,
        state,
        valid_from
    from history
    where valid_from < :cutoff_at
        and (valid_to is null or valid_to >= :cutoff_at)
),

reached_before_cutoff as (
    select distinct contract_no
    from history
    where state = :not_reached
        and valid_from < :cutoff_at
),

contracts as (
    select
        contract_no,
        contract_type,
        house_id,
        signed_at
    from core_contract
),

final as (
    select
        state_at_cutoff.contract_no,
        contracts.contract_type,
        contracts.house_id,
        state_at_cutoff.state,
        state_at_cutoff.valid_from as state_since_at,
        contracts.signed_at
    from state_at_cutoff
    inner join contracts on contracts.contract_no = state_at_cutoff.contract_no
    left join reached_before_cutoff on reached_before_cutoff.contract_no = state_at_cutoff.contract_no
    where state_at_cutoff.state = :state
        and reached_before_cutoff.contract_no is null
)

select * from final
order by contract_no
