-- The banks' and the fund centre's disbursements in the period, with the contract they are linked to.
select bank || ':' || loan_no as id, disbursed_fen as amount_fen, disbursed_on as "on", contract_no as reference,
       house_id as unit, loan_type, contract_no, stage
from core_bank_loan
where disbursed_fen is not null and disbursed_on between :from_on and :to_on
order by id
