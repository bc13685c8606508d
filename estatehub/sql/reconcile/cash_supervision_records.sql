-- The banks' supervision records up to the period's end: refund approvals (a refund out of a supervised
-- account the bank approved) and releases (拨付, with the amount the rule allowed and the amount it
-- required to stay in the account).
select bank, record_no, record_type, account_no, counter_account_no, permit_no, contract_no, milestone,
       amount_fen, allowed_fen, retained_fen, approved_on
from core_bank_supervision
where approved_on <= :to_on
order by bank, record_no
