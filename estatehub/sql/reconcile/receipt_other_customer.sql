-- Receipts in the period booked to another customer (the ledger's 辅助核算 customer is wrong): the memo names
-- the unit (`link_basis` memo…), none of the linked contract's buyers bears the receipt's customer name,
-- and the same customer code's receipts of its own name belong to a contract on another house. The money
-- is where it belongs; the customer of the receipt is to be corrected in the ledger (else the customer's
-- sub-ledger shows one buyer's money on another's account).
with buyer_names as (
    select cb.contract_no, b.name
    from core_contract_buyer cb
    join core_buyer b on b.id_hash = cb.id_hash
),
own as (
    select r.customer_code, r.contract_no, r.house_id
    from core_receipt r
    join buyer_names n on n.contract_no = r.contract_no and n.name = r.customer_name
    where r.is_voided = false and r.customer_code is not null
)
select r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.house_id, r.customer_code,
       min(o.contract_no) as customer_contract_no, min(o.house_id) as customer_house_id
from core_receipt r
join own o on o.customer_code = r.customer_code and o.house_id <> r.house_id
where r.is_voided = false and r.contract_no is not null and r.link_basis like 'memo+%'
  and r.receipt_on between :from_on and :to_on
  and not exists (select 1 from buyer_names n where n.contract_no = r.contract_no and n.name = r.customer_name)
group by r.bill_no, r.receipt_on, r.amount_fen, r.payment_kind, r.contract_no, r.house_id, r.customer_code
order by r.bill_no
