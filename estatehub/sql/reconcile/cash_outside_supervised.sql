-- Rule money_outside_supervised: each receipt of the ledger (not voided, in the period) received into an
-- account that is no supervised account (预售资金监管账户) at all: a general account, or one the banks do not
-- list. The unit's pre-sale permit and its supervised account are named where the receipt is tied to a
-- unit. Which kinds of money must be under supervision is the caller's (buyer money and loan
-- disbursements; fees collected for others are not sale proceeds). A receipt that names no bank account
-- is not judged here.
with receipts as (
    select bill_no, receipt_on, amount_fen, payment_kind, contract_no, house_id, bank_account_no, customer_name,
           purpose
    from core_receipt
    where is_voided = false and receipt_on between :from_on and :to_on and bank_account_no is not null
),

supervised as (
    select permit_no, min(account_no) as account_no
    from core_bank_account
    where account_type = 'supervised' and permit_no is not null
    group by permit_no
),

final as (
    select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.house_id,
           r.bank_account_no, r.customer_name, u.permit_no, s.account_no as supervised_account_no, r.purpose
    from receipts r
    left join core_unit u on u.house_id = r.house_id
    left join supervised s on s.permit_no = u.permit_no
    where not exists (
        select 1
        from core_bank_account a
        where a.account_type = 'supervised' and a.account_no = r.bank_account_no
    )
)

select * from final
order by bill_no
