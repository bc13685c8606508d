-- core_buyer: one row per person or company (keyed hash of the ID number), as named by the most
-- recently updated contract that lists them. Incremental by batch: the buyers of the contracts staged
-- in :batch_id are rebuilt from every current staged contract that lists them.
with batch_buyers as (
    select distinct id_hash
    from stg_tn_contract_buyer
    where batch_id = :batch_id
),

mentions as (
    select
        buyers.id_hash,
        buyers.id_type,
        buyers.id_masked,
        buyers.name,
        buyers.phone_hash,
        buyers.phone_masked,
        buyers.is_company,
        contracts.updated_at,
        contracts.contract_no,
        buyers.seq
    from stg_tn_contract_buyer as buyers
    inner join batch_buyers on batch_buyers.id_hash = buyers.id_hash
    inner join stg_tn_contract as contracts on contracts.contract_no = buyers.contract_no
),

ranked as (
    select
        mentions.*,
        row_number() over (
            partition by id_hash order by updated_at desc, contract_no desc, seq desc
        ) as row_no
    from mentions
),

final as (
    select
        id_hash,
        id_type,
        id_masked,
        name,
        phone_hash,
        phone_masked,
        is_company
    from ranked
    where row_no = 1
)

insert into core_buyer (id_hash, id_type, id_masked, name, phone_hash, phone_masked, is_company)
select * from final
where true
on conflict (id_hash) do update set
    id_type = excluded.id_type,
    id_masked = excluded.id_masked,
    name = excluded.name,
    phone_hash = excluded.phone_hash,
    phone_masked = excluded.phone_masked,
    is_company = excluded.is_company
