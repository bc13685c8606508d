"""The words of the reports, in Chinese (zh-CN) and English; a recipient list chooses its language.

Every label a report shows is a key here: a key missing in one language is an error a test catches,
not an English word in a Chinese email.
"""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "每日对账报告",
        "subject": "【对账】{day} 未结差异 {open} 项，新增 {new} 项",
        "subject_clean": "【对账】{day} 全部相符，无差异",
        "period": "对账期间 {date_from} 至 {date_to}，截至 {as_of}",
        "nothing": "今日全部相符，没有需要处理的差异。",
        "summary": "各项对账汇总",
        "reconciliation": "对账项目",
        "open": "未处理",
        "acknowledged": "已确认",
        "open_amount": "涉及金额（元）",
        "new_today": "今日新增",
        "closed_today": "今日已消除",
        "matches": "已匹配",
        "not_run": "未运行",
        "new_breaks": "今日新增差异",
        "by_age": "差异账龄（未结项数）",
        "age": "账龄（天）",
        "overdue": "逾期应收款（金额最大的前 {n} 笔）",
        "invoices": "待开发票",
        "supervised": "监管账户异常",
        "supervised_none": "无监管账户异常。",
        "supervised_not_run": "资金（银行流水）对账未运行，监管账户规则本次未检查。",
        "gate_warnings": "数据质量提示",
        "contract": "合同",
        "subject_col": "对象",
        "reason": "原因",
        "amount": "金额（元）",
        "days": "天数",
        "detail": "说明（英文）",
        "status": "状态",
        "buyer": "客户",
        "kind": "款项",
        "due_on": "应收日",
        "received": "已收（元）",
        "outstanding": "未收（元）",
        "days_overdue": "逾期天数",
        "footer": (
            "本邮件由 estatehub 自动生成。个人信息已脱敏。明细见附件工作簿；"
            "确认差异：estatehub breaks ack 编号 --note 说明。"
        ),
        "attachment": "对账明细_{day}.xlsx",
        "sheet_summary": "汇总",
        "sheet_receivables": "应收账款",
        "sheet_invoices": "待开发票",
        "sheet_matches": "匹配明细",
        "break_key": "编号",
        "first_on": "发生日",
        "opened_on": "发现日",
        "who": "确认人",
        "note": "备注",
        "tier": "匹配层级",
        "confidence": "置信度",
        "left": "左方",
        "right": "右方",
        "amount_delta": "金额差（元）",
        "date_delta": "日期差（天）",
        "text_score": "文本相似度",
        "state": "状态",
        "ageing": "账龄",
        "project": "项目",
        "contracts": "合同",
        "receivables": "应收",
        "loans": "按揭放款",
        "cash": "资金流水",
        "invoices_rec": "发票",
    },
    "en": {
        "title": "Daily reconciliation report",
        "subject": "[Reconciliation] {day}: {open} open breaks, {new} new",
        "subject_clean": "[Reconciliation] {day}: everything matches",
        "period": "Period {date_from} to {date_to}, as of {as_of}",
        "nothing": "Everything matches today: nothing to report.",
        "summary": "Summary per reconciliation",
        "reconciliation": "Reconciliation",
        "open": "Open",
        "acknowledged": "Acknowledged",
        "open_amount": "Amount (yuan)",
        "new_today": "New today",
        "closed_today": "Closed today",
        "matches": "Matched",
        "not_run": "not run",
        "new_breaks": "Breaks new today",
        "by_age": "Breaks by age (open items)",
        "age": "Age (days)",
        "overdue": "Largest overdue receivables (top {n})",
        "invoices": "Invoices to issue",
        "supervised": "Supervised-account exceptions",
        "supervised_none": "No supervised-account exceptions.",
        "supervised_not_run": "The cash reconciliation did not run: the supervised-account rules were not checked.",
        "gate_warnings": "Data quality warnings",
        "contract": "Contract",
        "subject_col": "Subject",
        "reason": "Reason",
        "amount": "Amount (yuan)",
        "days": "Days",
        "detail": "Detail",
        "status": "Status",
        "buyer": "Buyer",
        "kind": "Kind",
        "due_on": "Due",
        "received": "Received (yuan)",
        "outstanding": "Outstanding (yuan)",
        "days_overdue": "Days overdue",
        "footer": (
            "Sent by estatehub. Personal data masked. Details in the attached workbook; "
            "to acknowledge a break: estatehub breaks ack KEY --note WHY."
        ),
        "attachment": "reconciliation_{day}.xlsx",
        "sheet_summary": "Summary",
        "sheet_receivables": "Receivables",
        "sheet_invoices": "Invoices to issue",
        "sheet_matches": "Matches",
        "break_key": "Key",
        "first_on": "First on",
        "opened_on": "Found on",
        "who": "By",
        "note": "Note",
        "tier": "Tier",
        "confidence": "Confidence",
        "left": "Left",
        "right": "Right",
        "amount_delta": "Amount delta (yuan)",
        "date_delta": "Date delta (days)",
        "text_score": "Text score",
        "state": "State",
        "ageing": "Ageing",
        "project": "Project",
        "contracts": "Contracts",
        "receivables": "Receivables",
        "loans": "Loans",
        "cash": "Cash",
        "invoices_rec": "Invoices",
    },
}

REASONS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "money_after_cancellation": "撤销后仍收款",
        "refund_due": "退款待付",
        "refund_overdue": "退款逾期",
        "filing_overdue": "逾期未备案",
        "overdue": "逾期未收",
        "payable_overdue": "应退补差逾期",
        "overpaid": "多收",
        "suspense_receipt": "挂账收款（无合同）",
        "unmatched_bank": "银行有、账上无",
        "unmatched_ledger": "账上有、银行无",
        "amount_mismatch": "金额不符",
        "invalid_input": "数据无效",
        "disbursed_on_cancelled": "已撤销合同仍放款（警报）",
        "invoice_to_issue": "收款未开票",
        "invoice_without_receipt": "有票无款",
    },
    "en": {
        "money_after_cancellation": "money after cancellation",
        "refund_due": "refund due",
        "refund_overdue": "refund overdue",
        "filing_overdue": "filing overdue",
        "overdue": "overdue",
        "payable_overdue": "true-up owed to the buyer, overdue",
        "overpaid": "overpaid",
        "suspense_receipt": "receipt tied to no contract",
        "unmatched_bank": "in the bank, not in the ledger",
        "unmatched_ledger": "in the ledger, not in the bank",
        "amount_mismatch": "amounts differ",
        "invalid_input": "invalid data",
        "disbursed_on_cancelled": "ALARM: disbursed on a cancelled contract",
        "invoice_to_issue": "invoice to issue",
        "invoice_without_receipt": "invoice without a receipt",
    },
}

STATUSES = {
    "zh-CN": {"open": "未处理", "acknowledged": "已确认", "resolved": "已消除"},
    "en": {"open": "open", "acknowledged": "acknowledged", "resolved": "resolved"},
}

RECONCILIATION_KEYS = {
    "contracts": "contracts",
    "receivables": "receivables",
    "loans": "loans",
    "cash": "cash",
    "invoices": "invoices_rec",
}


def labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"no report language {lang!r}: choose {', '.join(LANGUAGES)}")
    return LABELS[lang]


def reason(lang: str, code: str) -> str:
    return REASONS[lang].get(code, code)


def reconciliation_name(lang: str, name: str) -> str:
    return LABELS[lang].get(RECONCILIATION_KEYS.get(name, name), name)


# -- the work lists' daily digest (estatehub.worklists.digest) --------------------------------------

DIGEST_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "每日待办清单",
        "subject": "【待办】{day} {name}：{count} 项，其中逾期 {late} 项",
        "subject_clean": "【待办】{day} {name}：今日无待办事项",
        "greeting": "{name}，您好：以下是截至 {day} 需要跟进的事项，每张清单按紧急程度排列（逾期最久的在前）。",
        "scope_all": "范围：全部项目",
        "scope_projects": "范围：{projects}",
        "nothing": "今日没有需要跟进的事项。",
        "summary": "汇总",
        "list": "清单",
        "item_count": "项数",
        "late": "已逾期",
        "new": "今日新增",
        "days": "剩余 / 逾期",
        "days_late": "逾期 {n} 天",
        "days_left": "剩 {n} 天",
        "day_late": "逾期 1 天",
        "day_left": "剩 1 天",
        "due_today": "今日到期",
        "deadline": "期限",
        "project": "项目",
        "contract": "合同",
        "unit": "房号",
        "buyer": "客户",
        "phone": "电话",
        "what": "事项",
        "amount": "金额（元）",
        "since": "起算日",
        "first_listed": "首次列入",
        "detail": "说明（英文）",
        "new_mark": "新",
        "more": "另有 {n} 项，见附件工作簿。",
        "footer": (
            "本邮件由 estatehub 根据仓库数据自动生成；事项办结后会自动从清单中消失。个人信息已脱敏。明细见附件工作簿。"
        ),
        "attachment": "待办清单_{day}.xlsx",
        "sheet_summary": "汇总",
    },
    "en": {
        "title": "Daily work lists",
        "subject": "[Work lists] {day} {name}: {count} items, {late} late",
        "subject_clean": "[Work lists] {day} {name}: nothing to follow up today",
        "greeting": "Hello {name}, here is what to follow up as of {day}; each list is sorted by urgency "
        "(longest late first).",
        "scope_all": "Scope: every project",
        "scope_projects": "Scope: {projects}",
        "nothing": "Nothing to follow up today.",
        "summary": "Summary",
        "list": "List",
        "item_count": "Items",
        "late": "Late",
        "new": "New today",
        "days": "Days left / late",
        "days_late": "{n} days late",
        "days_left": "{n} days left",
        "day_late": "1 day late",
        "day_left": "1 day left",
        "due_today": "due today",
        "deadline": "Deadline",
        "project": "Project",
        "contract": "Contract",
        "unit": "Unit",
        "buyer": "Buyer",
        "phone": "Phone",
        "what": "What",
        "amount": "Amount (yuan)",
        "since": "Since",
        "first_listed": "First listed",
        "detail": "Detail",
        "new_mark": "new",
        "more": "{n} more in the attached workbook.",
        "footer": "Sent by estatehub from the warehouse; an item leaves its list by itself once the data says "
        "it is done. Personal data masked. Details in the attached workbook.",
        "attachment": "work_lists_{day}.xlsx",
        "sheet_summary": "Summary",
    },
}

LIST_NAMES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "subscription_overdue": "认购逾期未签约",
        "filing_overdue": "签约逾期未备案",
        "loan_stuck": "按揭停滞",
        "guarantee_unreleased": "按揭保证金未释放",
        "refund_due": "应退款未付",
        "instalment_overdue": "逾期未收款（催缴）",
        "handover_late": "逾期未交房",
        "registration_late": "逾期未办证",
        "area_difference": "面积误差超 3%",
        "invoice_to_issue": "待开发票",
    },
    "en": {
        "subscription_overdue": "Subscriptions past signing date",
        "filing_overdue": "Signed, not filed in time",
        "loan_stuck": "Loans stuck at a stage",
        "guarantee_unreleased": "Guarantee deposits not released",
        "refund_due": "Refunds due",
        "instalment_overdue": "Instalments overdue",
        "handover_late": "Handovers late",
        "registration_late": "Registrations late",
        "area_difference": "Area difference over 3%",
        "invoice_to_issue": "Invoices to issue",
    },
}


def digest_labels(lang: str) -> dict[str, str]:
    if lang not in DIGEST_LABELS:
        raise ValueError(f"no report language {lang!r}: choose {', '.join(LANGUAGES)}")
    return DIGEST_LABELS[lang]


def list_name(lang: str, name: str) -> str:
    return LIST_NAMES[lang].get(name, name)
