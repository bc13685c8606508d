-- bank_statement_lines_loaded: the statement lines held per bank and account (current ones, and those a
-- corrected file dropped), with the files behind them.
with lines as (
    select
        bank,
        account_no,
        direction,
        amount_fen,
        is_current
    from core_bank_statement_line
),

files as (
    select
        bank,
        account_no,
        count(*) as file_count,
        sum(case when status = 'quarantined' then 1 else 0 end) as quarantined_file_count
    from etl_bank_statement_file
    group by bank, account_no
),

totals as (
    select
        bank,
        account_no,
        sum(case when is_current then 1 else 0 end) as line_count,
        sum(case when is_current then 0 else 1 end) as dropped_line_count,
        sum(case when is_current and direction = 'in' then amount_fen else 0 end) as credit_fen,
        sum(case when is_current and direction = 'out' then amount_fen else 0 end) as debit_fen
    from lines
    group by bank, account_no
),

final as (
    select
        files.bank,
        files.account_no,
        files.file_count,
        files.quarantined_file_count,
        coalesce(totals.line_count, 0) as line_count,
        coalesce(totals.dropped_line_count, 0) as dropped_line_count,
        coalesce(totals.credit_fen, 0) as credit_fen,
        coalesce(totals.debit_fen, 0) as debit_fen
    from files
    left join totals on totals.bank = files.bank and totals.account_no = files.account_no
)

select * from final
order by bank, account_no
