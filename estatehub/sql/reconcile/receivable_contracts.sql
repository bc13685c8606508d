-- The contracts of the receivables: state, the links money follows (subscription, replaced contract),
-- the unit and project, and the primary buyer's name (masked in Python before anyone reads it).
select c.contract_no, c.contract_type, c.state, c.subscription_no, c.previous_contract_no, c.house_id,
       u.project_code, b.name as buyer_name
from core_contract c
left join core_unit u on u.house_id = c.house_id
left join core_contract_buyer cb on cb.contract_no = c.contract_no and cb.is_primary = true
left join core_buyer b on b.id_hash = cb.id_hash
order by c.contract_no
