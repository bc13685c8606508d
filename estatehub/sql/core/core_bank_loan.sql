-- core_bank_loan: each loan staged in :batch_id with its current stage and its link to a contract: the
-- contract number the bank reported when the network knows it, else the borrower's ID hash on a contract
-- for the unit the property address names (the one in force when the loan was applied for); a loan neither
-- finds stays, unlinked.
with batch_loans as (
    select *
    from stg_bank_loan
    where batch_id = :batch_id
),

by_contract_no as (
    -- the bank reported a purchase contract the network knows (a 认购 agreement does not count)
    select
        batch_loans.bank,
        batch_loans.loan_no,
        core_contract.contract_no,
        core_contract.house_id
    from batch_loans
    inner join core_contract on core_contract.contract_no = batch_loans.reported_contract_no
    where core_contract.contract_type <> '认购'
),

unit_addresses as (
    select
        house_id,
        project_name || building || unit || room as address
    from core_unit
),

borrower_contracts as (
    -- the borrower is a buyer on a contract for the unit the property address names: the contract that
    -- was in force when the loan was applied for (signed before that day, not cancelled before it: the
    -- bank's loan belongs to it even when the network cancelled it later and the buyer signed the unit
    -- again), else a contract still in force, then the latest signed
    select
        batch_loans.bank,
        batch_loans.loan_no,
        core_contract.contract_no,
        core_contract.house_id,
        row_number() over (
            partition by batch_loans.bank, batch_loans.loan_no
            order by
                case
                    when batch_loans.applied_on is not null
                        and core_contract.signed_at < batch_loans.applied_on
                        and (core_contract.cancelled_at is null or core_contract.cancelled_at >= batch_loans.applied_on)
                        then 0
                    else 1
                end,
                case when core_contract.cancelled_at is null then 0 else 1 end,
                core_contract.signed_at desc, core_contract.contract_no desc
        ) as candidate_rank
    from batch_loans
    inner join unit_addresses
        on batch_loans.property_address = unit_addresses.address
        or batch_loans.property_address = unit_addresses.address || '室'
    inner join core_contract on core_contract.house_id = unit_addresses.house_id
    inner join core_contract_buyer
        on core_contract_buyer.contract_no = core_contract.contract_no
        and core_contract_buyer.id_hash = batch_loans.borrower_id_hash
    where core_contract.contract_type <> '认购'
),

by_buyer_unit as (
    select
        bank,
        loan_no,
        contract_no,
        house_id
    from borrower_contracts
    where candidate_rank = 1
),

final as (
    select
        batch_loans.bank,
        batch_loans.loan_no,
        coalesce(by_contract_no.contract_no, by_buyer_unit.contract_no) as contract_no,
        coalesce(by_contract_no.house_id, by_buyer_unit.house_id) as house_id,
        case
            when by_contract_no.contract_no is not null then 'contract_no'
            when by_buyer_unit.contract_no is not null then 'buyer_id_unit'
            else 'unlinked'
        end as link_basis,
        batch_loans.loan_type,
        batch_loans.stage,
        batch_loans.reported_contract_no,
        batch_loans.borrower_name,
        batch_loans.borrower_id_type,
        batch_loans.borrower_id_hash,
        batch_loans.borrower_id_masked,
        batch_loans.property_address,
        batch_loans.branch,
        batch_loans.applied_fen,
        batch_loans.approved_fen,
        batch_loans.disbursed_fen,
        batch_loans.guarantee_fen,
        batch_loans.guarantee_released_on,
        batch_loans.linked_loan_no,
        batch_loans.applied_on,
        batch_loans.approved_on,
        batch_loans.disbursed_on,
        batch_loans.updated_at
    from batch_loans
    left join by_contract_no
        on by_contract_no.bank = batch_loans.bank and by_contract_no.loan_no = batch_loans.loan_no
    left join by_buyer_unit
        on by_buyer_unit.bank = batch_loans.bank and by_buyer_unit.loan_no = batch_loans.loan_no
)

insert into core_bank_loan (
    bank, loan_no, contract_no, house_id, link_basis, loan_type, stage, reported_contract_no, borrower_name,
    borrower_id_type, borrower_id_hash, borrower_id_masked, property_address, branch, applied_fen, approved_fen,
    disbursed_fen, guarantee_fen, guarantee_released_on, linked_loan_no, applied_on, approved_on, disbursed_on,
    updated_at
)
select * from final
where true
on conflict (bank, loan_no) do update set
    contract_no = excluded.contract_no,
    house_id = excluded.house_id,
    link_basis = excluded.link_basis,
    loan_type = excluded.loan_type,
    stage = excluded.stage,
    reported_contract_no = excluded.reported_contract_no,
    borrower_name = excluded.borrower_name,
    borrower_id_type = excluded.borrower_id_type,
    borrower_id_hash = excluded.borrower_id_hash,
    borrower_id_masked = excluded.borrower_id_masked,
    property_address = excluded.property_address,
    branch = excluded.branch,
    applied_fen = excluded.applied_fen,
    approved_fen = excluded.approved_fen,
    disbursed_fen = excluded.disbursed_fen,
    guarantee_fen = excluded.guarantee_fen,
    guarantee_released_on = excluded.guarantee_released_on,
    linked_loan_no = excluded.linked_loan_no,
    applied_on = excluded.applied_on,
    approved_on = excluded.approved_on,
    disbursed_on = excluded.disbursed_on,
    updated_at = excluded.updated_at
