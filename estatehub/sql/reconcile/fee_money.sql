-- The fees collected for others each buyer paid up to the day (契税, 维修基金, 登记费, and 代收款 for a receipt
-- that names no fee: estatehub.memo.FEE_KINDS, decision 0028): unvoided receipts of a fee kind that the
-- ledger linking tied to a contract. They pay the contract's fee lines (decision 0036), never the price.
select contract_no, payment_kind, receipt_on, amount_fen
from core_receipt
where is_voided = false
    and receipt_on <= :as_of_on
    and contract_no is not null
    and payment_kind in ('契税', '维修基金', '登记费', '代收款')
order by contract_no, receipt_on, bill_no
