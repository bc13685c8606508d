"""The linker where a large world repeats what a small one does not (SQLite and PostgreSQL): a memo that names
a bare room (502房) in a project of many buildings, two buyers of one name in a project, 诚意金 paid for a house
while the previous buyer's subscription is still in force."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import insert

from estatehub.ledger.link import MAX_CANDIDATES, Linker
from estatehub.memo import RoomDirectory
from estatehub.trading_network.tables import (
    core_buyer,
    core_contract,
    core_contract_buyer,
    core_payment_plan,
    core_unit,
)
from tests.reconcile.conftest import _contract, _unit


def _buy(conn, *buyers: tuple[str, str, str]) -> None:  # noqa: ANN001
    """Buyers (ID hash, contract, name) of the contracts: each person once, each contract's buyer."""
    people = {h: n for h, _, n in buyers}
    conn.execute(
        insert(core_buyer),
        [
            {"id_hash": h, "id_type": "身份证", "id_masked": "4403**", "name": n, "is_company": False}
            for h, n in people.items()
        ],
    )
    conn.execute(
        insert(core_contract_buyer),
        [{"contract_no": c, "seq": 1, "id_hash": h, "is_primary": True} for h, c, _ in buyers],
    )


def test_a_bare_room_that_fits_the_customer_s_unit_beyond_the_first_candidates_is_no_other_unit(warehouse):
    """A bare room fits one house per building; the memo names the customer's own unit when their house is
    any of them, not only one of the first `MAX_CANDIDATES` the linker looks contracts up for. Seen at 2,000
    units: 18 receipts flagged 'memo names another unit' (false alarms) because the customer's house came
    seventh or later among the 502s of the project."""
    buildings = MAX_CANDIDATES + 3
    rooms = RoomDirectory((f"P01-{b:02d}-1-502", f"{b}栋", "1单元", "502") for b in range(1, buildings + 1))
    theirs = f"P01-{buildings:02d}-1-502"  # the last candidate: beyond the first MAX_CANDIDATES
    elsewhere = "P01-01-1-1203"  # a house the memo cannot mean
    row = SimpleNamespace(
        remark="任志明付502房 任峰伟诚意金",
        phase_code="P01",
        customer_name="任峰伟",
        customer_code="KH1",
        amount_fen=2_000_000,
    )
    with warehouse.engine.connect() as conn:
        linker = Linker(conn, {"P01": rooms})
        found = linker.link(row, on=date(2026, 5, 1), known={"KH1": frozenset({("RG1", theirs)})})
        other = linker.link(row, on=date(2026, 5, 1), known={"KH1": frozenset({("RG2", elsewhere)})})
    assert (found.contract_no, found.house_id, found.basis) == ("RG1", theirs, "customer_code")
    assert (other.contract_no, other.basis) == ("RG2", "customer_code (memo names another unit)")


def test_of_two_buyers_of_one_name_the_one_whose_plan_has_the_amount_takes_a_receipt_naming_no_unit(warehouse):
    """收张平首付: the memo names no unit and two buyers called 张平 hold live contracts in the project (seen at
    2,000 units: the 首付 and the 公积金 of one of them went to suspense). The contract with a plan line of
    exactly the amount takes it; a loan may come up to a guarantee deposit short of its line; an amount that
    fits both, or neither, stays unresolved."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1"), _unit("H2") | {"room": "1602"}])
        conn.execute(insert(core_contract), [_contract("YS1", "H1"), _contract("YS2", "H2")])
        buyers = [("h1", "YS1"), ("h2", "YS2")]
        _buy(conn, *((h, c, "张平") for h, c in buyers))
        plan = [("YS1", 1, "首付", 611_393_800), ("YS1", 2, "公积金", 126_000_000), ("YS2", 1, "首付", 900_000_00)]
        plan += [("YS1", 3, "分期", 100_000_00), ("YS2", 2, "分期", 100_000_00)]
        conn.execute(
            insert(core_payment_plan),
            [{"contract_no": c, "seq": s, "kind": k, "amount_fen": a} for c, s, k, a in plan],
        )

    def link(remark: str, amount_fen: int):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name="张平", customer_code="KH9", amount_fen=amount_fen
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=date(2026, 3, 1), known={})

    assert link("收张平首付", 611_393_800).contract_no == "YS1"
    assert link("收张平首付", 900_000_00).contract_no == "YS2"
    assert link("收张平公积金放款", 120_000_000).contract_no == "YS1", "a loan less the guarantee held back"
    assert link("收张平分期", 100_000_00).contract_no is None, "a line of both: which 张平 is not known"
    assert link("收张平首付", 1_234_00).contract_no is None


def test_sincerity_money_paid_while_the_previous_buyer_s_subscription_stands_is_the_payer_s(warehouse):
    """10栋2单元701室诚意金 黄晨俊, paid on 2026-03-06: the house's subscription of that day is 程洋华's (cancelled on
    03-08); 黄晨俊 subscribes on 03-24. Seen at 5,000 units: the receipt went to 程洋华's cancelled subscription
    (money after cancellation, a refund overdue) and 黄晨俊's 定金 line showed 10,000 short (overdue)."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1") | {"building": "10栋", "room": "701"}])
        conn.execute(
            insert(core_contract),
            [
                _contract("RG0", "H1", kind="认购", state="撤销", signed=date(2026, 2, 20))
                | {"cancelled_at": datetime(2026, 3, 8, 5, 22, tzinfo=UTC)},
                _contract("RG1", "H1", kind="认购", state="已签", signed=date(2026, 3, 24)),
            ],
        )
        buyers = [("h0", "RG0", "程洋华"), ("h1", "RG1", "黄晨俊")]
        _buy(conn, *buyers)

    def link(customer: str, on: date):
        row = SimpleNamespace(
            remark=f"10栋2单元701室诚意金 {customer}",
            phase_code="P01",
            customer_name=customer,
            customer_code="KH1",
            amount_fen=1_000_000,
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=on, known={})

    ahead = link("黄晨俊", date(2026, 3, 6))
    assert (ahead.contract_no, ahead.basis) == ("RG1", "memo+customer")
    assert link("程洋华", date(2026, 3, 6)).contract_no == "RG0", "the buyer of that day's own money"
    assert link("李四", date(2026, 3, 6)).contract_no == "RG0", "a name no contract has: the contract of the day"


def test_a_customer_of_two_houses_pays_ahead_of_their_next_contract_and_after_a_room_change(warehouse):
    """杜超 subscribed 1304 on 02-23, signed it on 03-04, changed to 1401 on 03-20 (the 1304 contract cancelled on
    03-19). Seen at 5,000 units, both went to suspense: 收杜超诚意金 on 02-16 (no contract in force yet: the
    next one, begun within `AHEAD_DAYS`, is the one it is paid ahead of) and 杜超 首付款(2) on 03-20 (the old
    contract still in force by the day of grace: the new one, which had not ended, takes it)."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1") | {"room": "1304"}, _unit("H2") | {"room": "1401"}])
        conn.execute(
            insert(core_contract),
            [
                _contract("RG1", "H1", kind="认购", state="已签", signed=date(2025, 2, 23)),
                _contract("YS1", "H1", state="撤销", signed=date(2025, 3, 4), subscription_no="RG1")
                | {"cancelled_at": datetime(2025, 3, 19, 3, 20, tzinfo=UTC)},
                _contract("YS2", "H2", signed=date(2025, 3, 20), previous_contract_no="YS1"),
            ],
        )
        _buy(conn, *(("h1", c, "杜超") for c in ("RG1", "YS1", "YS2")))
    known = {"KH1": frozenset({("RG1", "H1"), ("YS1", "H1"), ("YS2", "H2")})}

    def link(remark: str, on: date, amount_fen: int = 2_000_000):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name="杜超", customer_code="KH1", amount_fen=amount_fen
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=on, known=known), Linker(conn).link(row, on=on, known={})

    for found in link("收杜超诚意金", date(2025, 2, 16)):
        assert found.contract_no == "RG1", "paid a week ahead of the subscription"
    for found in link("杜超 首付款(2)", date(2025, 3, 20), 121_520_300):
        assert found.contract_no == "YS2", "the day after the room change"
    for found in link("收杜超诚意金", date(2025, 1, 10)):
        assert found.contract_no is None, "44 days ahead: no contract to pay ahead of"
    for found in link("杜超 首付款", date(2025, 2, 16), 121_520_300):
        assert found.contract_no is None, "only sincerity money and deposits are paid ahead"


def test_a_room_change_s_difference_paid_back_is_the_live_contract_s_refund(warehouse):
    """退10栋701换房差价: a room change to a cheaper unit pays back what the old contract had received beyond the
    new price; the refund is the new, live contract's, not that of a buyer who cancelled on the house before."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1") | {"building": "10栋", "room": "701"}])
        conn.execute(
            insert(core_contract),
            [
                _contract("YS0", "H1", state="撤销", signed=date(2025, 3, 1))
                | {"cancelled_at": datetime(2025, 4, 1, 2, tzinfo=UTC)},
                _contract("YS1", "H1", signed=date(2025, 6, 1)),
            ],
        )
        buyers = [("h0", "YS0", "程洋华"), ("h1", "YS1", "黄晨俊")]
        _buy(conn, *buyers)

    def refund(remark: str, customer: str = "黄晨俊"):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name=customer, customer_code="KH1", amount_fen=123_400_00
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=date(2025, 6, 20), known={}, refund=True)

    assert refund("退10栋701换房差价 黄晨俊").contract_no == "YS1"
    assert refund("退10栋701面积补差款").contract_no == "YS1"
    assert refund("退10栋701房款", "程洋华").contract_no == "YS0", "a refund of the price: the cancelled contract's"
    assert refund("退10栋701房款", "李四").contract_no == "YS0", "of no buyer's name: the cancelled contract's"


def test_a_customer_code_of_one_house_stands_for_the_contract_a_payment_of_its_day_and_kind_belongs_to(warehouse):
    """刘静颖's receipts that name the unit were all paid under her subscription (定金), so her customer code points
    at RG1; the 首付 and the 按揭 that name no unit came after she signed YS1. Seen at 5,000 units: they went to
    the subscription, and the guarantee the bank held back of the loan showed as the loan line overdue."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1") | {"building": "9栋", "room": "102"}])
        conn.execute(
            insert(core_contract),
            [
                _contract("RG1", "H1", kind="认购", state="已签", signed=date(2026, 1, 14)),
                _contract("YS1", "H1", signed=date(2026, 1, 28), subscription_no="RG1"),
            ],
        )
        _buy(conn, *(("h1", c, "刘静颖") for c in ("RG1", "YS1")))

    def link(remark: str, on: date):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name="刘静颖", customer_code="KH1", amount_fen=202_500_000
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=on, known={"KH1": frozenset({("RG1", "H1")})})

    assert link("刘静颖 招行按揭", date(2026, 3, 9)).contract_no == "YS1"
    assert link("收刘静颖首付款", date(2026, 2, 4)).basis == "customer_code"
    assert link("收刘静颖诚意金", date(2026, 1, 10)).contract_no == "RG1", "before the signing: the subscription"


def test_a_bare_room_finds_the_customer_s_house_beyond_the_first_candidates_and_of_two_the_one_of_the_day(warehouse):
    """收王秀红502室定金款: 502 fits one house per building, 王秀红's is the ninth, and she has no other receipt to tell
    her house by (seen at 5,000 units: suspense, in a clean world). 李杰3102房订金: 李杰 holds contracts on two 3102s,
    one cancelled months before the receipt, one subscribed that day: the one in force."""
    buildings = MAX_CANDIDATES + 3
    houses = {b: f"P01-{b:02d}-1-502" for b in range(1, buildings + 1)}
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [_unit(h) | {"building": f"{b}栋", "unit": "1单元", "room": "502"} for b, h in houses.items()]
            + [_unit("L1") | {"room": "3102"}, _unit("L2") | {"building": "9栋", "room": "3102"}],
        )
        conn.execute(
            insert(core_contract),
            [
                _contract("RG9", houses[buildings], kind="认购", state="已签", signed=date(2025, 6, 14)),
                _contract("RG1", "L1", kind="认购", state="撤销", signed=date(2025, 4, 21))
                | {"cancelled_at": datetime(2025, 4, 29, 6, tzinfo=UTC)},
                _contract("RG2", "L2", kind="认购", state="已签", signed=date(2025, 11, 1)),
            ],
        )
        buyers = [("h9", "RG9", "王秀红"), ("h1", "RG1", "李杰"), ("h2", "RG2", "李杰")]
        _buy(conn, *buyers)

    def link(remark: str, customer: str, on: date):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name=customer, customer_code="KH1", amount_fen=9_000_000
        )
        with warehouse.engine.connect() as conn:
            linker = Linker(conn)
            linker.prefetch([row])
            return linker.link(row, on=on, known={})

    assert link("收王秀红502室定金款", "王秀红", date(2025, 6, 14)).contract_no == "RG9"
    assert link("李杰3102房订金", "李杰", date(2025, 11, 1)).contract_no == "RG2"
    assert link("收502室定金款", "张三", date(2025, 6, 14)).contract_no is None, "no buyer of that name: suspense"


def test_a_memo_naming_the_customer_s_unit_is_no_other_unit_when_the_receipt_carries_another_project_s_phase(
    warehouse,
):
    """A bank's batch of disbursements booked as one receipt carries the phase of its first; a memo names no
    project. Read in that phase, 第1栋2单元1903室 is another buyer's house; read in the project of the customer's
    own house it is theirs. Seen on a clean world of 100,000 contracts: 323 receipts flagged 'memo names
    another unit' (false alarms)."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit("P03-01-2-1903") | {"project_code": "P03", "building": "1栋", "unit": "2单元", "room": "1903"},
                _unit("P12-01-2-1903") | {"project_code": "P12", "building": "1栋", "unit": "2单元", "room": "1903"},
                _unit("P03-01-2-1803") | {"project_code": "P03", "building": "1栋", "unit": "2单元", "room": "1803"},
            ],
        )
        conn.execute(
            insert(core_contract),
            [_contract("YS3", "P03-01-2-1903"), _contract("YS12", "P12-01-2-1903"), _contract("YS4", "P03-01-2-1803")],
        )
        _buy(conn, ("h1", "YS3", "许健博"), ("h2", "YS12", "王芳"), ("h3", "YS4", "李强"))

    def link(remark: str, theirs: tuple[str, str]):
        row = SimpleNamespace(
            remark=remark, phase_code="P12", customer_name="许健博", customer_code="KH1", amount_fen=126_000_000
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=date(2026, 3, 9), known={"KH1": frozenset({theirs})})

    found = link("1260000元 第1栋2单元1903室 许健博 公积金中心公积金", ("YS3", "P03-01-2-1903"))
    assert (found.contract_no, found.house_id, found.basis) == ("YS3", "P03-01-2-1903", "customer_code+memo")
    # a memo that fits neither the phase's house of their name nor their own house still names another unit
    other = link("1260000元 第1栋2单元1903室 李强 公积金中心公积金", ("YS4", "P03-01-2-1803"))
    assert (other.contract_no, other.basis) == ("YS4", "customer_code (memo names another unit)")


def test_a_batch_receipt_naming_the_customer_s_own_unit_stays_theirs_whatever_the_phase_s_house_is_owed(warehouse):
    """Seen on a clean world of 100,000 contracts: a guarantee deposit released (541,000 yuan) booked with a
    batch's phase, its memo naming the customer's own 1-1-1101, went to the phase's 1-1-1101, whose 公积金 line
    the amount fits within the guarantee's share; and a memo naming the customer 郑飞志 read as naming that
    house's buyer 郑飞. The memo, read in the project of the customer's own house, is theirs: theirs it stays."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit("P06-01-1-1101") | {"project_code": "P06", "building": "1栋", "unit": "1单元", "room": "1101"},
                _unit("P01-01-1-1101") | {"project_code": "P01", "building": "1栋", "unit": "1单元", "room": "1101"},
            ],
        )
        conn.execute(insert(core_contract), [_contract("YS6", "P06-01-1-1101"), _contract("YS1", "P01-01-1-1101")])
        conn.execute(
            insert(core_payment_plan),
            [
                {
                    "contract_no": "YS6",
                    "seq": 1,
                    "kind": "按揭",
                    "due_on": date(2025, 7, 20),
                    "amount_fen": 541_000_000,
                },
                {
                    "contract_no": "YS1",
                    "seq": 1,
                    "kind": "公积金",
                    "due_on": date(2025, 11, 1),
                    "amount_fen": 60_000_000,
                },
            ],
        )
        _buy(conn, ("h6", "YS6", "郑飞志"), ("h1", "YS1", "郑飞"))

    def link(remark: str, amount_fen: int):
        row = SimpleNamespace(
            remark=remark, phase_code="P01", customer_name="郑飞志", customer_code="KH6", amount_fen=amount_fen
        )
        with warehouse.engine.connect() as conn:
            known = {"KH6": frozenset({("YS6", "P06-01-1-1101")})}
            return Linker(conn).link(row, on=date(2026, 4, 27), known=known)

    released = link("１栋 １单元 １１０１房 招行按揭放款", 54_100_000)
    assert (released.contract_no, released.basis) == ("YS6", "customer_code+memo")
    named = link("工行按揭款 1—1—1101 郑飞志", 228_000_000)
    assert (named.contract_no, named.basis) == ("YS6", "customer_code+memo")
    # the phase's buyer named apart from the customer's own name: the memo names them, and is right
    stranger = link("工行按揭款 1—1—1101 郑飞 郑飞志", 228_000_000)
    assert (stranger.contract_no, stranger.basis) == ("YS1", "memo+buyer+date")


def test_a_memo_fitting_several_houses_goes_to_the_customer_s_own_not_a_namesake_s(warehouse):
    """Seen on a clean world of 100,000 contracts: two buyers named 李静 in one project, on 1-1-1704 and
    13-1-1704; the second's 登记费, its memo '1704房产权登记费 李静', went to the first's contract, though the
    second's customer code already stood for 13-1-1704 (its 契税 named it): of the houses the bare room fits,
    the first `MAX_CANDIDATES` held only the other 李静's."""
    assert MAX_CANDIDATES < 13
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit(f"P05-{b:02d}-1-1704")
                | {"project_code": "P05", "building": f"{b}栋", "unit": "1单元", "room": "1704"}
                for b in range(1, 14)
            ],
        )
        conn.execute(insert(core_contract), [_contract("YS1", "P05-01-1-1704"), _contract("XS13", "P05-13-1-1704")])
        _buy(conn, ("h1", "YS1", "李静"), ("h13", "XS13", "李静"))
    row = SimpleNamespace(
        remark="1704房产权登记费 李静", phase_code="P05", customer_name="李静", customer_code="KH13", amount_fen=8_000
    )
    with warehouse.engine.connect() as conn:
        linker = Linker(conn)
        found = linker.link(row, on=date(2026, 4, 30), known={"KH13": frozenset({("XS13", "P05-13-1-1704")})})
        first = linker.link(row, on=date(2026, 4, 30), known={})
    assert (found.contract_no, found.basis) == ("XS13", "customer_code")
    assert first.contract_no is None, "with no customer history, two houses of that name fit: none is a guess"


def test_a_receipt_naming_no_unit_goes_to_the_payer_s_contract_on_the_house_their_name_finds(warehouse):
    """Seen on a clean world of 100,000 contracts: 王琳欣's 诚意金 (no unit in the memo) on 05-08, while 王刚斌's
    subscription of the same house (begun that week) stood: her name finds the house, and of its contracts,
    hers (05-16), not the one in force that day."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("P04-08-1-1703") | {"project_code": "P04", "room": "1703"}])
        conn.execute(
            insert(core_contract),
            [
                _contract("RG530", "P04-08-1-1703", kind="认购", state="已签", signed=date(2025, 5, 7)),
                _contract("RG531", "P04-08-1-1703", kind="认购", state="已签", signed=date(2025, 5, 16)),
            ],
        )
        _buy(conn, ("h530", "RG530", "王刚斌"), ("h531", "RG531", "王琳欣"))
    row = SimpleNamespace(
        remark="王琳欣 诚意金", phase_code="P04", customer_name="王琳欣", customer_code="KH531", amount_fen=1_500_000
    )
    with warehouse.engine.connect() as conn:
        found = Linker(conn).link(row, on=date(2025, 5, 8), known={})
    assert (found.contract_no, found.basis) == ("RG531", "customer_name+date")


def test_a_deposit_naming_no_unit_goes_to_the_deal_of_that_name_begun_that_week_not_a_namesake_s_old_one(warehouse):
    """Seen on a clean world of 100,000 contracts: 张丽's 定金 of 30,000 (the first of two parts, no unit in the
    memo) on the day her subscription began, while another 张丽's contract of a year before was in force: no
    amount fits a line, and the receipt stayed in suspense. A deposit is paid as a deal begins."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit("P04-02-1-801") | {"project_code": "P04", "building": "2栋", "room": "801"},
                _unit("P04-13-1-3404") | {"project_code": "P04", "building": "13栋", "room": "3404"},
            ],
        )
        conn.execute(
            insert(core_contract),
            [
                _contract("YS-OLD", "P04-02-1-801", signed=date(2025, 6, 1)),
                _contract("RG-NEW", "P04-13-1-3404", kind="认购", state="已签", signed=date(2026, 6, 20)),
            ],
        )
        _buy(conn, ("h-old", "YS-OLD", "张丽"), ("h-new", "RG-NEW", "张丽"))

    def link(kind: str, on: date):
        row = SimpleNamespace(
            remark=f"收到张丽{kind}", phase_code="P04", customer_name="张丽", customer_code="KH9", amount_fen=3_000_000
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=on, known={})

    assert link("订金", date(2026, 6, 20)).contract_no == "RG-NEW"
    assert link("定金", date(2026, 6, 26)).contract_no == "RG-NEW", "the second part, within the week"
    assert link("分期款", date(2026, 6, 20)).contract_no is None, "no deposit: either deal may be owed it"
    # 诚意金 weeks ahead of the subscription (认筹) goes to the deal about to begin, not the one under way
    assert link("认筹金", date(2026, 6, 5)).contract_no == "RG-NEW"
    assert link("认筹金", date(2026, 4, 26)).contract_no == "YS-OLD", "none begins within 30 days: the one in force"


def test_a_first_receipt_with_a_batch_s_phase_goes_to_the_house_of_the_customer_s_name_the_memo_names(warehouse):
    """Seen on a clean world of 100,000 contracts: 吴英红's loan (1,738,500 yuan), booked with a batch's phase
    P09 and no earlier receipt of her customer code, its memo '4-1-702 吴英红': P09's 4-1-702 is 谢璐's, P10's is
    hers. With no customer history, the one house of her name that the memo names in its own project."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit(f"{p}-04-1-702") | {"project_code": p, "building": "4栋", "unit": "1单元", "room": "702"}
                for p in ("P09", "P10")
            ],
        )
        conn.execute(insert(core_contract), [_contract("YS9", "P09-04-1-702"), _contract("YS10", "P10-04-1-702")])
        _buy(conn, ("h9", "YS9", "谢璐"), ("h10", "YS10", "吴英红"))

    def link(remark: str, customer: str):
        row = SimpleNamespace(
            remark=remark, phase_code="P09", customer_name=customer, customer_code="KH", amount_fen=173_850_000
        )
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=date(2026, 4, 16), known={})

    found = link("建行按揭放款 4-1-702 吴英红", "吴英红")
    assert (found.contract_no, found.house_id, found.basis) == ("YS10", "P10-04-1-702", "customer_name+memo")
    assert link("建行按揭放款 4-1-702", "李四").contract_no == "YS9", "no house of the name elsewhere: the phase's"


def test_a_batch_receipt_naming_the_house_the_customer_s_deal_moved_to_is_the_new_contract_s(warehouse):
    """Seen on a clean world of 100,000 contracts (decision 0038): 王刚 subscribed to 3-2-1001 and signed there,
    then changed rooms (换房) to 3-2-902 of the same project. The bank's disbursement came in a batch booked with
    another project's phase (P09, whose 3-2-902 is another buyer's); his customer code's receipts all named
    1001. The memo, read in his own project, names the house his deal moved to: the new contract's loan."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit(f"{p}-03-2-{r}") | {"project_code": p, "building": "3栋", "unit": "2单元", "room": r}
                for p, r in (("P10", "1001"), ("P10", "902"), ("P09", "902"))
            ],
        )
        none = {"previous_contract_no": None}
        conn.execute(
            insert(core_contract),
            [
                _contract("RG800", "P10-03-2-1001", kind="认购", state="已签", signed=date(2025, 8, 21), **none),
                _contract(
                    "YS801",
                    "P10-03-2-1001",
                    state="撤销",
                    signed=date(2025, 8, 31),
                    subscription_no="RG800",
                    cancelled_at=datetime(2025, 9, 25, 7, tzinfo=UTC),
                    **none,
                ),  # fmt: skip
                _contract("YS790", "P10-03-2-902", signed=date(2025, 9, 26), previous_contract_no="YS801"),
                _contract("YS891", "P09-03-2-902", signed=date(2025, 6, 9), **none),
            ],
        )
        _buy(conn, ("h1", "RG800", "王刚"), ("h1", "YS801", "王刚"), ("h1", "YS790", "王刚"), ("h2", "YS891", "李娜"))

    def link(remark: str):
        row = SimpleNamespace(
            remark=remark, phase_code="P09", customer_name="王刚", payer="建设银行", customer_code="KH800",
            amount_fen=236_147_200,
        )  # fmt: skip
        with warehouse.engine.connect() as conn:
            known = {"KH800": frozenset({("RG800", "P10-03-2-1001")})}
            return Linker(conn).link(row, on=date(2025, 12, 1), known=known)

    found = link("按揭 建行 3栋2单元902室")
    assert (found.contract_no, found.house_id, found.basis) == ("YS790", "P10-03-2-902", "customer_code+memo")
    # a memo naming a house of his project that his deal never reached still names another unit
    assert link("按揭 建行 3栋2单元1902室").basis == "customer_code (memo names another unit)"


def test_money_of_the_day_before_a_room_change_goes_to_the_contract_then_begun_of_the_one_deal(warehouse):
    """Seen on a clean world of 100,000 contracts (decision 0038): 叶强杰 paid 一次性付款(2), no unit in the memo,
    on 06-07; his contract on 3301 was cancelled on 06-09 and the room change's contract on 3302 signed on 06-10.
    Both were in force that day (3 days' grace for money paid ahead of a signing), so neither was taken and the
    receipt stayed in suspense: they are one deal, and the money of the day is the contract begun by then."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit(f"P25-05-2-{r}") | {"project_code": "P25", "building": "5栋", "unit": "2单元", "room": r}
                for r in ("3301", "3302")
            ],
        )
        none = {"previous_contract_no": None}
        conn.execute(
            insert(core_contract),
            [
                _contract("RG320", "P25-05-2-3301", kind="认购", state="已签", signed=date(2025, 4, 24), **none),
                _contract(
                    "YS321",
                    "P25-05-2-3301",
                    state="撤销",
                    signed=date(2025, 5, 11),
                    subscription_no="RG320",
                    cancelled_at=datetime(2025, 6, 9, 3, tzinfo=UTC),
                    **none,
                ),  # fmt: skip
                _contract("YS330", "P25-05-2-3302", signed=date(2025, 6, 10), previous_contract_no="YS321"),
            ],
        )
        _buy(conn, ("h1", "RG320", "叶强杰"), ("h1", "YS321", "叶强杰"), ("h1", "YS330", "叶强杰"))
    known = {"KH320": frozenset({("RG320", "P25-05-2-3301"), ("YS321", "P25-05-2-3301"), ("YS330", "P25-05-2-3302")})}

    def link(on: date):
        row = SimpleNamespace(
            remark="收到叶强杰一次性付款(2)", phase_code="P25", customer_name="叶强杰", customer_code="KH320",
            amount_fen=352_726_300,
        )  # fmt: skip
        with warehouse.engine.connect() as conn:
            return Linker(conn).link(row, on=on, known=known)

    assert (link(date(2025, 6, 7)).contract_no, link(date(2025, 6, 7)).basis) == ("YS321", "customer_code")
    assert link(date(2025, 6, 11)).contract_no == "YS330", "after the change: the new contract"


def test_money_naming_no_unit_is_not_a_namesake_s_whose_customer_code_stands_for_that_house(warehouse):
    """Seen on a clean world of 100,000 contracts (decision 0038): two customers named 张杰 (张琪 likewise) in one
    project, each with a customer code of their own. The second one's 认筹金 (no unit) came while the first's
    subscription stood and before the second's began, and went to the first's deal; the second one's 购房款 (no
    unit, no kind) stayed in suspense. The first one's code stands for 2303 (memo and name agree): a house
    another customer code of the same name stands for is not this customer's."""
    from estatehub.ledger.tables import core_receipt
    from tests.reconcile.conftest import _receipt

    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                _unit(f"P16-0{b}-{u}-{r}")
                | {"project_code": "P16", "building": f"{b}栋", "unit": f"{u}单元", "room": r}
                for b, u, r in ((3, 2, "2303"), (6, 1, "1801"))
            ],
        )
        none = {"previous_contract_no": None}
        conn.execute(
            insert(core_contract),
            [
                _contract("RG5690", "P16-03-2-2303", kind="认购", state="已签", signed=date(2025, 5, 29), **none),
                _contract("YS5691", "P16-03-2-2303", signed=date(2025, 6, 11), subscription_no="RG5690", **none),
                _contract(
                    "RG9930",
                    "P16-06-1-1801",
                    kind="认购",
                    state="撤销",
                    signed=date(2025, 6, 22),
                    cancelled_at=datetime(2025, 6, 28, 1, tzinfo=UTC),
                    **none,
                ),  # fmt: skip
            ],
        )
        _buy(conn, ("h1", "RG5690", "张杰"), ("h1", "YS5691", "张杰"), ("h2", "RG9930", "张杰"))
        conn.execute(
            insert(core_receipt),
            [
                _receipt(
                    1,
                    "RG5690",
                    "定金",
                    4_000_000,
                    date(2025, 5, 29),
                    remark="3-2-2303订金 张杰",
                    customer_name="张杰",
                    customer_code="KH5690",
                    phase_code="P16",
                    house_id="P16-03-2-2303",
                    link_basis="memo+customer+date+amount",
                ),  # fmt: skip
            ],
        )

    def link(remark: str, on: date, code: str = "KH9930", claims: dict | None = None):
        row = SimpleNamespace(
            remark=remark, phase_code="P16", customer_name="张杰", customer_code=code, amount_fen=1_000_000
        )
        with warehouse.engine.connect() as conn:
            linker = Linker(conn)
            linker.claims.update(claims or {})
            return linker.link(row, on=on, known={})

    assert link("张杰 认筹金", date(2025, 6, 5)).contract_no == "RG9930"
    assert link("收张杰购房款", date(2025, 6, 23)).contract_no == "RG9930"
    assert link("张杰 认筹金", date(2025, 6, 5), code="KH5690").contract_no == "RG5690", "the first one's own"
    # the claim of a code being linked in the same call: its first pass, not its stored links
    with warehouse.engine.connect() as conn:
        linker = Linker(conn)
        linker.codes_in_call = {"KH5690"}
        linker.claims[("P16-06-1-1801", "张杰")].add("KH5690")
        row = SimpleNamespace(
            remark="张杰 认筹金", phase_code="P16", customer_name="张杰", customer_code="KH9930", amount_fen=1_000_000
        )
        assert linker.link(row, on=date(2025, 6, 5), known={}).contract_no == "RG5690"
