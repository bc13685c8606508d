-- Money in and back per receipt up to the day: receipts not voided (positive) and refunds not voided
-- (negative), each with the contract the ledger linking found (null: tied to no contract) and its kind.
select 'receipt' as source, bill_no, contract_no, payment_kind, receipt_on as money_on, amount_fen
from core_receipt
where is_voided = false and receipt_on <= :as_of_on
union all
select 'refund' as source, bill_no, contract_no, '退款' as payment_kind, refund_on as money_on, -amount_fen as amount_fen
from core_refund
where is_voided = false and refund_on <= :as_of_on
order by bill_no
