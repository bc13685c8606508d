-- core_handover: the handover of each handed-over contract, with the as-built area and its true-up
-- in fen (negative: a refund) (after core_handover__delete).
with staged as (
    select *
    from stg_tn_contract
    where batch_id = :batch_id
),

final as (
    select
        contract_no,
        handed_over_on,
        as_built_area,
        area_diff_fen
    from staged
    where handed_over_on is not null
)

insert into core_handover (contract_no, handed_over_on, as_built_area, area_diff_fen)
select * from final
