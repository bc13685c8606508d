-- core_deposit: each 诚意金 (sincerity deposit) of the customers touched by :batch_id, and how much of it
-- unvoided voucher lines moved out of 其他应付款 (2241) into the buyer's advance receipts (诚意金转定金);
-- the fee payables under 2241 (代收契税, 代收维修基金, 代收登记费) are not deposits.
-- Its contract and house are those of its receipt (core_receipt, by bill_id).
with batch_customers as (
    select customer_code from stg_fl_receipt where batch_id = :batch_id
    union
    select customer_code from stg_fl_voucher_line where batch_id = :batch_id
),

deposits as (
    select *
    from core_receipt
    where (purpose = '诚意金' or payment_kind = '诚意金')
        and customer_code in (select customer_code from batch_customers)
),

conversions as (
    select
        customer_code,
        sum(debit_fen) as converted_fen
    from core_voucher_line
    where account_no >= '2241' and account_no < '2242'
        and debit_fen > 0
        -- a fee's pay-over (其他应付款_代收契税 … with its customer: decision 0034) converts no 诚意金
        and (payment_kind is null or payment_kind not in ('契税', '维修基金', '登记费', '代收款'))
        and not is_voided
        and customer_code in (select customer_code from batch_customers)
    group by customer_code
),

final as (
    select
        deposits.bill_id,
        deposits.bill_no,
        deposits.receipt_on as received_on,
        deposits.customer_code,
        deposits.customer_name,
        deposits.phase_code,
        deposits.amount_fen,
        coalesce(conversions.converted_fen, 0) as converted_fen,
        coalesce(conversions.converted_fen, 0) >= deposits.amount_fen as is_converted,
        deposits.is_voided
    from deposits
    left join conversions on conversions.customer_code = deposits.customer_code
)

insert into core_deposit (
    bill_id, bill_no, received_on, customer_code, customer_name, phase_code, amount_fen, converted_fen,
    is_converted, is_voided
)
select * from final where true
on conflict (bill_id) do update set
    converted_fen = excluded.converted_fen,
    is_converted = excluded.is_converted,
    is_voided = excluded.is_voided
