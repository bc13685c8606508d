-- Every payment-plan line (the plan as the network filed it with the contract).
select contract_no, seq, kind, due_on, amount_fen
from core_payment_plan
order by contract_no, seq
