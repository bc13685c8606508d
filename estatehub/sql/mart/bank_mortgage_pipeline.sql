-- bank_mortgage_pipeline: the mortgage pipeline by bank and current stage: loans, how many are linked to a
-- contract, and the amounts applied for, approved and disbursed.
with loans as (
    select
        bank,
        stage,
        link_basis,
        applied_fen,
        approved_fen,
        disbursed_fen
    from core_bank_loan
),

final as (
    select
        bank,
        stage,
        count(*) as loan_count,
        sum(case when link_basis = 'unlinked' then 0 else 1 end) as linked_count,
        coalesce(sum(applied_fen), 0) as applied_fen,
        coalesce(sum(approved_fen), 0) as approved_fen,
        coalesce(sum(disbursed_fen), 0) as disbursed_fen
    from loans
    group by bank, stage
)

select * from final
order by bank, stage
