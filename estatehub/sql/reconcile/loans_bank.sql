-- The banks' and the fund centre's disbursements in the period, with the contract they are linked to.
-- A bank that holds a guarantee deposit (按揭保证金) back pays the developer the disbursement less the
-- deposit, and the deposit on its release after the mortgage is registered: two rows, the second's id
-- ending in "guarantee", dated at its release where the bank reports one (in the period by that day), else
-- at the disbursement and `held` (the bank still holds it, or does not say when it paid it out); matched
-- by the contract it names.
with loans as (
    select bank, loan_no, disbursed_fen, coalesce(guarantee_fen, 0) as guarantee_fen, guarantee_released_on,
           disbursed_on, contract_no, house_id, loan_type, stage
    from core_bank_loan
    where disbursed_fen is not null
),

parts as (
    select bank || ':' || loan_no as id, disbursed_fen - guarantee_fen as amount_fen, disbursed_on as paid_on,
           contract_no, house_id, loan_type, stage, 0 as held
    from loans
    where disbursed_on between :from_on and :to_on
    union all
    select bank || ':' || loan_no || ':' || 'guarantee' as id, guarantee_fen as amount_fen,
           coalesce(guarantee_released_on, disbursed_on) as paid_on, contract_no, house_id, loan_type, stage,
           case when guarantee_released_on is null then 1 else 0 end as held
    from loans
    where guarantee_fen > 0 and coalesce(guarantee_released_on, disbursed_on) between :from_on and :to_on
),

final as (
    select id, amount_fen, paid_on as "on", contract_no as reference, house_id as unit, loan_type, contract_no,
           stage, held
    from parts
)

select * from final
order by id
