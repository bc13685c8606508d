-- Fees collected for others booked as sale proceeds: receipts not voided in the period whose memo names a
-- fee the developer collects for others (契税, 维修基金, 登记费: estatehub.memo.FEE_KINDS, decision 0028) while
-- the ledger's purpose is that of sale proceeds (:proceeds_purpose, 预收房款): credited to 预收账款 / 合同负债
-- instead of 其他应付款, such a fee would be carried to revenue at handover although it is owed to the tax
-- bureau or the fund centre. The hub does not count it towards the price either way (payment_kind).
with final as (
    select bill_no, receipt_on, amount_fen, payment_kind, contract_no, house_id, purpose
    from core_receipt
    where is_voided = false and receipt_on between :from_on and :to_on
      and purpose = :proceeds_purpose and payment_kind in ('契税', '维修基金', '登记费')
)

select * from final
order by bill_no
