-- Receipts in the period whose memo names another unit than the contract the ledger linking tied them
-- to by the customer (`link_basis` says "memo names another unit"): the money is where it belongs, the
-- memo in the ledger is wrong and is to be corrected there.
select bill_no, receipt_on, amount_fen, payment_kind, contract_no, house_id, memo_units
from core_receipt
where is_voided = false and contract_no is not null and link_basis like '%memo names another unit%'
  and receipt_on between :from_on and :to_on
order by bill_no
