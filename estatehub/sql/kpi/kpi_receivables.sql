-- kpi_receivables (应收): the receivables mart (rec_receivable, the one source of receivables) as of
-- its latest run: each live plan line still owed — due today or overdue — with its ageing bucket
-- (1-30, 31-60, 61-90, over_90 days overdue), project and product type. Not-yet-due lines count as
-- `not_due` (what is still to come). The fees collected for others at handover (`is_fee`) are no part of the
-- price and are left out, as 回款 leaves them out.
with lines as (
    select
        contract_no,
        seq,
        house_id,
        project_code,
        state,
        ageing,
        outstanding_fen,
        as_of_on
    from rec_receivable
    where is_contract_live = true and is_fee = false and state in ('due', 'overdue', 'not_due', 'part_paid') and outstanding_fen > 0
),

final as (
    select
        lines.contract_no,
        lines.seq,
        lines.project_code,
        coalesce(units.usage, '其他') as product_type,
        lines.state,
        lines.ageing,
        lines.outstanding_fen,
        lines.as_of_on
    from lines
    left join core_unit as units on units.house_id = lines.house_id
)

select * from final
order by contract_no, seq
