-- loan_stages: every stage each loan entered before :cutoff_at, with when it left it (the next stage's
-- entry; null while it is the loan's current stage), the loan's contract and the loan's current stage.
with stages as (
    select
        bank,
        loan_no,
        seq,
        stage,
        entered_at
    from core_bank_loan_stage
    where entered_at < :cutoff_at
),

timed as (
    select
        bank,
        loan_no,
        seq,
        stage,
        entered_at,
        lead(entered_at) over (partition by bank, loan_no order by seq) as left_at
    from stages
),

final as (
    select
        t.bank,
        t.loan_no,
        t.seq,
        t.stage,
        t.entered_at,
        t.left_at,
        l.contract_no,
        l.loan_type,
        l.applied_fen
    from timed as t
    inner join core_bank_loan as l
        on l.bank = t.bank and l.loan_no = t.loan_no
)

select * from final
order by bank, loan_no, seq
