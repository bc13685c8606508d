-- ledger_receipt_links: receipts by how they were linked to a contract (the demo's and finance's summary).
with receipts as (
    select
        coalesce(link_basis, 'unresolved') as link_basis,
        contract_no is not null as is_resolved,
        amount_fen
    from core_receipt
    where not is_voided
),

final as (
    select
        link_basis,
        is_resolved,
        count(*) as receipt_count,
        sum(amount_fen) as amount_fen
    from receipts
    group by link_basis, is_resolved
)

select * from final
order by is_resolved desc, receipt_count desc
