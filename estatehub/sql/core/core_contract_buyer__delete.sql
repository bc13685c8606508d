-- core_contract_buyer: the rows of the contracts staged in :batch_id go, to be rebuilt by core_contract_buyer.sql.
with batch_contracts as (
    select contract_no
    from stg_tn_contract
    where batch_id = :batch_id
)

delete from core_contract_buyer
where contract_no in (select contract_no from batch_contracts)
