-- The ledger's loan receipts (按揭, 公积金) in the period, not voided.
select 'receipt:' || bill_no as id, amount_fen, receipt_on as "on", contract_no as reference, house_id as unit,
       payment_kind, contract_no
from core_receipt
where is_voided = false and payment_kind in ('按揭', '公积金') and receipt_on between :from_on and :to_on
order by id
