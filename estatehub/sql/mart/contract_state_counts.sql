-- contract_state_counts: how many contracts of each type were in each state at :cutoff_at, from the
-- state history (a far-future cutoff gives the current states).
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
        state
    from history
    where valid_from < :cutoff_at
        and (valid_to is null or valid_to >= :cutoff_at)
),

contracts as (
    select
        contract_no,
        contract_type
    from core_contract
),

final as (
    select
        contracts.contract_type,
        state_at_cutoff.state,
        count(*) as contract_count
    from state_at_cutoff
    inner join contracts on contracts.contract_no = state_at_cutoff.contract_no
    group by contracts.contract_type, state_at_cutoff.state
)

select * from final
order by contract_type, state
