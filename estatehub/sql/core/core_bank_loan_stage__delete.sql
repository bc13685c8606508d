-- core_bank_loan_stage: the stages of the loans staged in :batch_id go, to be rebuilt by core_bank_loan_stage.sql.
with batch_loans as (
    select
        bank,
        loan_no
    from stg_bank_loan
    where batch_id = :batch_id
)

delete from core_bank_loan_stage
where exists (
    select 1
    from batch_loans
    where batch_loans.bank = core_bank_loan_stage.bank
        and batch_loans.loan_no = core_bank_loan_stage.loan_no
)
