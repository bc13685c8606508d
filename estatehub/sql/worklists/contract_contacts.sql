-- contract_contacts: each contract's project and unit, and whom a specialist calls about it: the
-- primary buyer (the first primary by seq, else the first buyer), the name as stored (the caller
-- masks it) and the masked phone (the warehouse never holds the full number).
with buyers as (
    select
        cb.contract_no,
        cb.seq,
        cb.is_primary,
        b.name as buyer_name,
        b.phone_masked
    from core_contract_buyer as cb
    inner join core_buyer as b
        on b.id_hash = cb.id_hash
),

ranked as (
    select
        contract_no,
        buyer_name,
        phone_masked,
        row_number() over (
            partition by contract_no order by case when is_primary then 0 else 1 end, seq
        ) as buyer_rank
    from buyers
),

final as (
    select
        c.contract_no,
        c.contract_type,
        c.state,
        c.house_id,
        u.project_code,
        r.buyer_name,
        r.phone_masked
    from core_contract as c
    inner join core_unit as u
        on u.house_id = c.house_id
    left join ranked as r
        on r.contract_no = c.contract_no and r.buyer_rank = 1
)

select * from final
order by contract_no
