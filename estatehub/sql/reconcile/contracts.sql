-- The contracts the contract checks judge: type, state and its moments, the filing rule's inputs, and the
-- contract's own refund term (null where it states none: the city's default applies).
select c.contract_no, c.contract_type, c.state, c.house_id, c.subscription_no, c.previous_contract_no,
       c.signed_at, c.filed_at, c.cancelled_at, c.total_price_fen, c.refund_days
from core_contract c
order by c.contract_no
