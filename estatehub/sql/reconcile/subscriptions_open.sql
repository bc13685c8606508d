-- Subscriptions (认购) still open: signed, neither cancelled nor followed by a contract (no contract
-- names them as its subscription), with the day their contract was planned to be signed.
with converted as (
    select distinct subscription_no as contract_no
    from core_contract
    where subscription_no is not null
),

final as (
    select c.contract_no, c.house_id, c.signed_at, c.planned_signing_on
    from core_contract c
    left join converted v on v.contract_no = c.contract_no
    where c.contract_type = '认购' and c.state <> '撤销' and c.planned_signing_on is not null
      and v.contract_no is null
)

select * from final
order by contract_no
