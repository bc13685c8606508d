-- kpi_mortgage_pipeline (按揭进度): every loan by bank with the stage it stood at at :as_of_at (the
-- last stage entered before then) and when it entered it, for the days in stage; loans with no stage
-- by then are left out. Amount: approved, else applied.
with stages as (
    select
        bank,
        loan_no,
        stage,
        entered_at,
        row_number() over (partition by bank, loan_no order by entered_at desc, seq desc) as latest
    from core_bank_loan_stage
    where entered_at < :as_of_at
),

final as (
    select
        loans.bank,
        loans.loan_no,
        loans.loan_type,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        stages.stage,
        stages.entered_at,
        coalesce(loans.approved_fen, loans.applied_fen, 0) as amount_fen
    from stages
    inner join core_bank_loan as loans on loans.bank = stages.bank and loans.loan_no = stages.loan_no
    left join core_contract as contracts on contracts.contract_no = loans.contract_no
    left join core_unit as units on units.house_id = coalesce(contracts.house_id, loans.house_id)
    where stages.latest = 1
)

select * from final
order by bank, loan_no
