-- Fees collected for others and their pay-overs, up to the day the run is as of (decision 0034): each
-- unvoided receipt whose kind is a fee (契税, 维修基金, 登记费, 代收款: decision 0028; booked to 其他应付款 or,
-- by mistake, as proceeds) is money held for an authority; each unvoided debit of a fee payable that is not a
-- bank line (其他应付款_代收契税 … , `payment_kind` from the account: estatehub.ledger.load) pays it over, with
-- its customer where the ledger books the pay-over per household, without one where it books the batch.
-- `estatehub.reconcile.fees` clears the collections with the pay-overs, oldest first.
with collections as (
    select 'collection' as item, bill_no as ref, customer_code, payment_kind, receipt_on as money_on,
           amount_fen, contract_no
    from core_receipt
    where is_voided = false and receipt_on <= :as_of_on
      and payment_kind in ('契税', '维修基金', '登记费', '代收款')
),

payovers as (
    select 'payover' as item, cast(entry_id as varchar) as ref, customer_code, payment_kind,
           voucher_on as money_on, debit_fen as amount_fen, cast(null as varchar) as contract_no
    from core_voucher_line
    where is_voided = false and voucher_on <= :as_of_on and debit_fen > 0 and bank_account_no is null
      and payment_kind in ('契税', '维修基金', '登记费', '代收款')
),

final as (
    select * from collections
    union all
    select * from payovers
)

select * from final
order by payment_kind, money_on, item, ref
