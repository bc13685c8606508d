-- kpi_subscriptions (认购): every subscription contract (type 认购) signed by :as_of_at, one row each,
-- with its project, product type (the unit's use: 住宅, 商业, 车位), area and price. A subscription
-- counts in the period its signing falls in, also when it was later converted or cancelled.
with subscriptions as (
    select
        contract_no,
        house_id,
        signed_at,
        total_price_fen
    from core_contract
    where contract_type = '认购' and signed_at is not null and signed_at < :as_of_at
),

final as (
    select
        subscriptions.contract_no,
        units.project_code,
        coalesce(units.usage, '其他') as product_type,
        subscriptions.signed_at as event_at,
        units.building_area as building_area,
        subscriptions.total_price_fen as amount_fen
    from subscriptions
    inner join core_unit as units on units.house_id = subscriptions.house_id
)

select * from final
order by event_at, contract_no
