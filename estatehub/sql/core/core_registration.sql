-- core_registration: the property-right registration (办证) of each contract that has one
-- (after core_registration__delete).
with staged as (
    select *
    from stg_tn_contract
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        registration_status as status,
        registration_applied_on as applied_on,
        registered_on,
        certificate_no
    from staged
    where registration_status is not null
)

insert into core_registration (contract_no, status, applied_on, registered_on, certificate_no)
select * from final
