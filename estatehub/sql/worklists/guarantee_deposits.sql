-- guarantee_deposits: loans disbursed less a guarantee deposit (按揭保证金) on a contract whose
-- property right is registered by :as_of_on, with the loan money of the loan's kind (按揭 for 商贷,
-- 公积金) that the ledger received for the contract up to the day, against what the banks disbursed:
-- the deposit is released when the bank says it paid it out (`guarantee_released_on`) or the ledger holds
-- the whole disbursement (a bank that does not report its releases).
with loans as (
    select
        bank,
        loan_no,
        contract_no,
        case when loan_type = '公积金' then '公积金' else '按揭' end as payment_kind,
        disbursed_fen,
        guarantee_fen,
        disbursed_on
    from core_bank_loan
    where guarantee_fen > 0
        and contract_no is not null
        and disbursed_on <= :as_of_on
        and (guarantee_released_on is null or guarantee_released_on > :as_of_on)
),

disbursed as (
    select
        contract_no,
        payment_kind,
        sum(disbursed_fen) as contract_disbursed_fen
    from loans
    group by contract_no, payment_kind
),

received as (
    select
        contract_no,
        payment_kind,
        sum(amount_fen) as received_fen
    from core_receipt
    where is_voided = false
        and payment_kind in ('按揭', '公积金')
        and receipt_on <= :as_of_on
    group by contract_no, payment_kind
),

registered as (
    select
        contract_no,
        registered_on
    from core_registration
    where registered_on <= :as_of_on
),

final as (
    select
        l.bank,
        l.loan_no,
        l.contract_no,
        l.payment_kind,
        l.guarantee_fen,
        l.disbursed_on,
        g.registered_on,
        d.contract_disbursed_fen,
        coalesce(r.received_fen, 0) as received_fen
    from loans as l
    inner join registered as g
        on g.contract_no = l.contract_no
    inner join disbursed as d
        on d.contract_no = l.contract_no and d.payment_kind = l.payment_kind
    left join received as r
        on r.contract_no = l.contract_no and r.payment_kind = l.payment_kind
)

select * from final
where received_fen < contract_disbursed_fen
order by registered_on, bank, loan_no
