-- Rule money_outside_supervised: each receipt of the ledger (not voided, in the period) tied to a unit
-- whose pre-sale permit has a supervised account (预售资金监管账户), received into an account that is not
-- a supervised account of that permit. A receipt that names no bank account is not judged here. Which kinds of money must be there is the caller's (buyer money
-- and loan disbursements; fees collected for others are not sale proceeds).
with receipts as (
    select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.house_id, r.bank_account_no,
           r.customer_name, u.permit_no
    from core_receipt r
    join core_unit u on u.house_id = r.house_id
    where r.is_voided = false
      and r.receipt_on between :from_on and :to_on
      and r.bank_account_no is not null
      and u.permit_no is not null
),

supervised as (
    select permit_no, min(account_no) as account_no
    from core_bank_account
    where account_type = 'supervised' and permit_no is not null
    group by permit_no
),

final as (
    select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.house_id,
           r.bank_account_no, r.customer_name, r.permit_no, s.account_no as supervised_account_no
    from receipts r
    join supervised s on s.permit_no = r.permit_no
    where not exists (
           select 1
           from core_bank_account a
           where a.account_type = 'supervised' and a.permit_no = r.permit_no and a.account_no = r.bank_account_no
       )
)

select * from final
order by bill_no
