-- kpi_subscriptions_overdue (认购逾期未签约): subscriptions (认购) signed by :as_of_at whose planned
-- signing date is before :overdue_before_on (the as-of day less the grace days), neither converted (no
-- contract on the network names it as its subscription) nor cancelled by :as_of_at.
with subscriptions as (
    select
        contract_no,
        house_id,
        planned_signing_on,
        total_price_fen
    from core_contract
    where contract_type = '认购'
        and planned_signing_on < :overdue_before_on
        and signed_at < :as_of_at
        and (cancelled_at is null or cancelled_at >= :as_of_at)
),

converted as (
    select distinct subscription_no
    from core_contract
    where subscription_no is not null
),

final as (
    select
        subscriptions.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        subscriptions.planned_signing_on,
        subscriptions.total_price_fen as amount_fen
    from subscriptions
    inner join core_unit as units on units.house_id = subscriptions.house_id
    left join converted on converted.subscription_no = subscriptions.contract_no
    where converted.subscription_no is null
)

select * from final
order by planned_signing_on, contract_no
