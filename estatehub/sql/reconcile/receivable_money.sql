-- Money in and back per receipt up to the day: receipts not voided (positive) and refunds not voided
-- (negative), each with the contract the ledger linking found (null: tied to no contract) and its kind;
-- and the guarantee deposits (按揭保证金) a bank still holds of a loan it disbursed (no receipt of the
-- deposit's amount on the contract since the disbursement): the buyer paid it, the bank keeps it until
-- the mortgage is registered, so it pays the loan's plan line (`source` = 'guarantee') — only where the
-- disbursement itself reached the books (a receipt of the loan's kind on the contract since the
-- disbursement): of a loan the bank shows paid out whose money never arrived, nothing is held back
-- either, and the whole loan line is still owed; and deposits
-- forfeited (a voucher taking the customer's advance receipts to 营业外收入, 6301 of the standard chart:
-- the buyer walked away and the 定金 is kept), negative, on the contract the customer's receipts are
-- linked to (`source` = 'forfeit'): money no longer held for the buyer.
-- Fees collected for others (契税, 维修基金, 登记费, 代收款: estatehub.memo.FEE_KINDS, decision 0028) are
-- left out: other payables the developer passes on, not money towards the price nor the buyer's to refund.
with receipts as (
    select 'receipt' as source, bill_no, contract_no, payment_kind, receipt_on as money_on, amount_fen
    from core_receipt
    where is_voided = false and receipt_on <= :as_of_on
      and (payment_kind is null or payment_kind not in ('契税', '维修基金', '登记费', '代收款'))
),

refunds as (
    select 'refund' as source, bill_no, contract_no, '退款' as payment_kind, refund_on as money_on,
           -amount_fen as amount_fen
    from core_refund
    where is_voided = false and refund_on <= :as_of_on
),

guarantees as (
    select 'guarantee' as source, l.bank || ':' || l.loan_no as bill_no, l.contract_no,
           case when l.loan_type = '公积金' then '公积金' else '按揭' end as payment_kind,
           l.disbursed_on as money_on, l.guarantee_fen as amount_fen
    from core_bank_loan l
    where l.guarantee_fen > 0 and l.contract_no is not null and l.disbursed_on <= :as_of_on
      and not exists (
          select 1
          from core_receipt r
          where r.contract_no = l.contract_no and r.amount_fen = l.guarantee_fen and r.is_voided = false
            and r.receipt_on >= l.disbursed_on and r.receipt_on <= :as_of_on
      )
      and exists (
          select 1
          from core_receipt r
          where r.contract_no = l.contract_no and r.is_voided = false
            and r.payment_kind = case when l.loan_type = '公积金' then '公积金' else '按揭' end
            and r.receipt_on >= l.disbursed_on and r.receipt_on <= :as_of_on
      )
),

customer_contracts as (
    select customer_code, min(contract_no) as contract_no
    from core_receipt
    where customer_code is not null and contract_no is not null and is_voided = false
    group by customer_code
),

forfeited as (
    select distinct voucher_id
    from core_voucher_line
    where account_no like '6301%' and credit_fen > 0 and is_voided = false
),

forfeits as (
    select 'forfeit' as source, 'voucher:' || cast(d.voucher_id as varchar) as bill_no, c.contract_no,
           '没收' as payment_kind, d.voucher_on as money_on, -d.debit_fen as amount_fen
    from core_voucher_line d
    join forfeited f on f.voucher_id = d.voucher_id
    join customer_contracts c on c.customer_code = d.customer_code
    where d.debit_fen > 0 and d.is_voided = false and d.voucher_on <= :as_of_on
),

final as (
    select * from receipts
    union all
    select * from refunds
    union all
    select * from guarantees
    union all
    select * from forfeits
)

select * from final
order by bill_no
