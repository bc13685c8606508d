-- Every stage each loan has entered, in order, with the loan's stage now, the contract it is linked
-- to and that contract's state on the network: how long a loan waited at each stage, and loans still
-- open on a contract the network shows cancelled.
select s.bank, s.loan_no, s.seq, s.stage, s.entered_at, l.stage as current_stage, l.contract_no,
       c.state as contract_state, c.cancelled_at
from core_bank_loan_stage s
join core_bank_loan l on l.bank = s.bank and l.loan_no = s.loan_no
left join core_contract c on c.contract_no = l.contract_no
order by s.bank, s.loan_no, s.seq
