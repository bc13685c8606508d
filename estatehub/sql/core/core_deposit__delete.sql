-- core_deposit: the deposits of the customers touched by :batch_id go, to be rebuilt by core_deposit.sql.
with batch_customers as (
    select customer_code from stg_fl_receipt where batch_id = :batch_id
    union
    select customer_code from stg_fl_voucher_line where batch_id = :batch_id
)

delete from core_deposit
where customer_code in (select customer_code from batch_customers)
