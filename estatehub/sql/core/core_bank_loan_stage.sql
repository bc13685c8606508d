-- core_bank_loan_stage: the full stage history of each loan staged in :batch_id (after __delete).
with batch_loans as (
    select
        bank,
        loan_no
    from stg_bank_loan
    where batch_id = :batch_id
),

stages as (
    select stg_bank_loan_stage.*
    from stg_bank_loan_stage
    inner join batch_loans
        on batch_loans.bank = stg_bank_loan_stage.bank and batch_loans.loan_no = stg_bank_loan_stage.loan_no
),

final as (
    select
        bank,
        loan_no,
        seq,
        stage,
        entered_at
    from stages
)

insert into core_bank_loan_stage (bank, loan_no, seq, stage, entered_at)
select * from final
