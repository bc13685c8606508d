-- The banks' and the fund centre's disbursements in the period, with the contract they are linked to.
-- A bank that holds a guarantee deposit (按揭保证金) back pays the developer the disbursement less the
-- deposit, and the deposit on its release after the mortgage is registered: two rows, the second's id
-- ending in "guarantee", dated at the disbursement (the release date is not in the warehouse), matched by
-- the contract it names whatever its date.
with disbursed as (
    select bank, loan_no, disbursed_fen, coalesce(guarantee_fen, 0) as guarantee_fen, disbursed_on, contract_no,
           house_id, loan_type, stage
    from core_bank_loan
    where disbursed_fen is not null and disbursed_on between :from_on and :to_on
),

parts as (
    select bank || ':' || loan_no as id, disbursed_fen - guarantee_fen as amount_fen, disbursed_on, contract_no,
           house_id, loan_type, stage
    from disbursed
    union all
    select bank || ':' || loan_no || ':' || 'guarantee' as id, guarantee_fen as amount_fen, disbursed_on, contract_no,
           house_id, loan_type, stage
    from disbursed
    where guarantee_fen > 0
),

final as (
    select id, amount_fen, disbursed_on as "on", contract_no as reference, house_id as unit, loan_type, contract_no,
           stage
    from parts
)

select * from final
order by id
