-- core_contract_buyer: who is on each contract, with their share (after core_contract_buyer__delete).
with buyers as (
    select *
    from stg_tn_contract_buyer
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        seq,
        id_hash,
        share,
        is_primary
    from buyers
)

insert into core_contract_buyer (contract_no, seq, id_hash, share, is_primary)
select * from final
