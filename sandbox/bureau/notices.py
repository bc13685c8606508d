"""The notices the simulated bureau publishes: texts, parameters, attachments and the edits they may get.

A notice is a template whose paragraphs carry `{placeholders}`; a version of the notice is the
template with one set of parameter values. An edit changes parameters (a number, a date) or fills an
empty sentence slot; an attachment replacement changes the attachment's own parameters. A paragraph
that renders empty is left out, so a sentence slot appears only once an edit fills it.

Every text here must be encodable in GBK: the 通知公告 channel is served in GBK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUREAU = "深圳市住房和建设局"
HPF_CENTRE = "深圳市住房公积金管理中心"
TAX_BUREAU = "国家税务总局深圳市税务局"


@dataclass(frozen=True)
class Edit:
    """One real change of a notice's text: `kind` is number, date or sentence (what a reader sees)."""

    kind: str
    changes: dict[str, str]
    note: str


@dataclass(frozen=True)
class AttachmentSpec:
    """An attachment: `lines` are paragraphs (PDF, DOCX) or rows of cells joined by '|' (XLSX).

    Its `params` are its own (an edit of the notice never changes the file); `replacement` is what a
    replaced file changes; with `new_url_on_replace` the new file is published under a new address.
    """

    label: str
    fmt: str
    lines: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)
    replacement: dict[str, str] = field(default_factory=dict)
    new_url_on_replace: bool = False
    replace_note: str = ""


@dataclass(frozen=True)
class NoticeTemplate:
    key: str
    channel: str
    title: str
    office: str
    doc_prefix: str | None
    paragraphs: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)
    edits: tuple[Edit, ...] = ()
    attachments: tuple[AttachmentSpec, ...] = ()
    topics: tuple[str, ...] = ()


def render_lines(lines: tuple[str, ...], params: dict[str, str]) -> list[str]:
    """The lines with their parameters filled in; lines that come out empty are dropped."""
    rendered = (line.format_map(params).strip() for line in lines)
    return [line for line in rendered if line]


TEMPLATES: tuple[NoticeTemplate, ...] = (
    NoticeTemplate(
        key="purchase_limits",
        channel="tzgg",
        title="深圳市住房和建设局关于进一步优化房地产市场平稳健康发展政策措施的通知",
        office=BUREAU,
        doc_prefix="深住建规",
        paragraphs=(
            "各区住房和建设局，各有关单位：",
            "为更好满足居民刚性和改善性住房需求，促进房地产市场平稳健康发展，经市政府同意，现就有关事项通知如下：",
            "一、非本市户籍居民家庭在本市购买商品住房的，须提供购房之日前{social_years}年以上在本市连续缴纳个人所得税或社会保险证明。",
            "二、本市户籍成年单身人士（含离异）在限购区域内限购{single_units}套住房。",
            "三、在福田区、南山区、宝安区新安街道和西乡街道范围内，本市户籍居民家庭限购{family_units}套住房。",
            "{extra}",
            "四、本通知自{effective}起施行，有效期至2027年12月31日。",
        ),
        params={
            "social_years": "3",
            "single_units": "1",
            "family_units": "2",
            "effective": "2026年1月20日",
            "extra": "",
        },
        edits=(
            Edit("number", {"social_years": "1"}, "社保年限 3 年改为 1 年"),
            Edit(
                "sentence",
                {"extra": "自即日起，暂停执行盐田区、大鹏新区范围内的住房限购政策。"},
                "新增一句：暂停盐田区、大鹏新区限购",
            ),
        ),
        topics=("限购",),
    ),
    NoticeTemplate(
        key="down_payment",
        channel="tzgg",
        title="关于调整我市个人住房贷款最低首付款比例的通知",
        office=BUREAU,
        doc_prefix="深住建",
        paragraphs=(
            "各商业银行深圳分行，各房地产开发企业：",
            "根据中国人民银行、国家金融监督管理总局有关规定，结合我市实际，现将个人住房贷款最低首付款比例调整事项通知如下：",
            "一、对于贷款购买首套住房的居民家庭，商业性个人住房贷款最低首付款比例为{first_ratio}。",
            "二、对于贷款购买第二套住房的居民家庭，商业性个人住房贷款最低首付款比例为{second_ratio}。",
            "三、首套住房认定以居民家庭在本市名下无成套住房为准，限贷政策按照本通知执行。",
            "四、本通知自{effective}起执行。",
        ),
        params={"first_ratio": "20%", "second_ratio": "30%", "effective": "2026年2月1日"},
        edits=(Edit("number", {"second_ratio": "25%"}, "二套首付比例 30% 改为 25%"),),
        topics=("限贷/首付",),
    ),
    NoticeTemplate(
        key="mortgage_rate",
        channel="tzgg",
        title="关于明确我市个人住房贷款利率政策有关事项的通知",
        office=BUREAU,
        doc_prefix="深住建",
        paragraphs=(
            "各商业银行深圳分行：",
            "为落实个人住房贷款利率定价机制，现就我市有关事项通知如下：",
            "一、首套住房商业性个人住房贷款利率下限为相应期限贷款市场报价利率（LPR）减{first_bp}个基点。",
            "二、二套住房商业性个人住房贷款利率下限为相应期限贷款市场报价利率（LPR）减{second_bp}个基点。",
            "三、各商业银行应当根据自身经营状况和客户风险状况，合理确定每笔贷款的具体利率水平。",
            "四、本通知自{effective}起施行。",
        ),
        params={"first_bp": "45", "second_bp": "5", "effective": "2026年3月1日"},
        edits=(
            Edit("date", {"effective": "2026年4月1日"}, "施行日期 3月1日 改为 4月1日"),
            Edit("number", {"first_bp": "55"}, "首套利率下限 LPR-45BP 改为 LPR-55BP"),
        ),
        topics=("利率/LPR",),
    ),
    NoticeTemplate(
        key="hpf_loans",
        channel="tzgg",
        title="深圳市住房公积金管理中心关于调整住房公积金个人住房贷款政策的通知",
        office=HPF_CENTRE,
        doc_prefix="深公积金规",
        paragraphs=(
            "各缴存单位、缴存职工：",
            "为更好支持缴存职工刚性和改善性住房需求，现就调整住房公积金个人住房贷款政策有关事项通知如下：",
            "一、单缴存人申请住房公积金贷款的最高贷款额度调整为{single_max}万元，共同申请的最高贷款额度调整为{family_max}万元。",
            "二、购买首套住房申请住房公积金贷款的，最低首付款比例为{first_ratio}。",
            "三、申请贷款时须提交附件所列申请表，受理时间为工作日9:00至18:00。",
            "{extra}",
            "四、本通知自{effective}起施行。",
        ),
        params={
            "single_max": "60",
            "family_max": "120",
            "first_ratio": "20%",
            "effective": "2026年2月10日",
            "extra": "",
        },
        edits=(
            Edit("number", {"single_max": "70", "family_max": "140"}, "公积金贷款额度 60/120 万元 改为 70/140 万元"),
            Edit(
                "sentence",
                {"extra": "自本通知发布之日起立即执行，此前已受理的贷款申请按原政策办理。"},
                "新增一句：立即执行",
            ),
        ),
        attachments=(
            AttachmentSpec(
                label="附件：深圳市住房公积金个人住房贷款申请表",
                fmt="docx",
                lines=(
                    "深圳市住房公积金个人住房贷款申请表（{form_edition}）",
                    "申请人姓名：________ 身份证件号码：________",
                    "申请贷款金额：________万元 贷款期限：________年",
                    "最高贷款额度：单缴存人{single_max}万元，共同申请{family_max}万元",
                    "所需材料：身份证件、婚姻状况证明、购房合同及网签备案证明、首付款发票或收据",
                ),
                params={"form_edition": "2026年版", "single_max": "60", "family_max": "120"},
                replacement={"form_edition": "2026年修订版", "single_max": "70", "family_max": "140"},
                replace_note="申请表更换为 2026年修订版，额度改为 70/140 万元",
            ),
        ),
        topics=("公积金",),
    ),
    NoticeTemplate(
        key="presale_funds",
        channel="tzgg",
        title="深圳市住房和建设局关于进一步加强商品房预售资金监管的通知",
        office=BUREAU,
        doc_prefix="深住建规",
        paragraphs=(
            "各区住房和建设局，各房地产开发企业，各监管银行：",
            "为保障购房人合法权益，防范化解房地产风险，现就加强商品房预售资金监管有关事项通知如下：",
            "一、商品房预售资金应当全部直接存入预售资金监管账户，开发企业不得以任何形式直接收取购房款。",
            "二、重点监管资金额度按照附件所列标准核定，达到主体结构封顶时可申请拨付至重点监管额度的{release_ratio}。",
            "三、监管银行应当每日对账，发现异常及时报告区住房建设部门。",
            "{extra}",
            "四、本通知自{effective}起施行。",
        ),
        params={"release_ratio": "50%", "effective": "2026年2月1日", "extra": ""},
        edits=(
            Edit(
                "sentence",
                {"extra": "自即日起，暂停受理预售资金提前拨付申请，已受理的申请暂缓审核。"},
                "新增一句：暂停受理提前拨付",
            ),
        ),
        attachments=(
            AttachmentSpec(
                label="附件1：深圳市商品房预售资金重点监管额度核定标准",
                fmt="xlsx",
                lines=(
                    "建筑类型|层数|重点监管额度（元/平方米）",
                    "住宅|18层及以下|{lowrise}",
                    "住宅|19层至33层|{midrise}",
                    "住宅|34层及以上|{highrise}",
                    "商业、办公|不分层数|{commercial}",
                ),
                params={"lowrise": "3000", "midrise": "3800", "highrise": "4500", "commercial": "5200"},
                replacement={"midrise": "4200", "highrise": "4800"},
                new_url_on_replace=True,
                replace_note="核定标准表：19-33 层 3800→4200，34 层以上 4500→4800（新文件地址）",
            ),
        ),
        topics=("预售资金监管",),
    ),
    NoticeTemplate(
        key="online_signing",
        channel="tzgg",
        title="关于全面推行商品房买卖合同网签备案“即签即备”的通知",
        office=BUREAU,
        doc_prefix="深住建",
        paragraphs=(
            "各房地产开发企业，各房地产经纪机构：",
            "为优化营商环境，提升商品房交易服务效率，现就全面推行商品房买卖合同网签备案“即签即备”有关事项通知如下：",
            "一、买卖双方通过深圳市住房交易网签备案系统签订商品房买卖合同后，系统即时完成合同备案。",
            "二、开发企业应当在认购后{sign_days}日内与购房人签订网签合同，逾期未签的认购信息自动失效。",
            "三、因资金问题、输入错误等原因需要撤销网签备案的，应当在{cancel_window}个工作日内提交申请。",
            "{extra}",
            "四、本通知自{effective}起施行。",
        ),
        params={"sign_days": "7", "cancel_window": "5", "effective": "2026年3月16日", "extra": ""},
        edits=(
            Edit(
                "sentence",
                {"extra": "自即日起，停止受理纸质商品房买卖合同备案申请。"},
                "新增一句：停止受理纸质合同备案",
            ),
            Edit("date", {"effective": "2026年4月15日"}, "施行日期 3月16日 改为 4月15日"),
        ),
        topics=("网签/备案",),
    ),
    NoticeTemplate(
        key="handover_certificate",
        channel="tzgg",
        title="关于推进新建商品房“交房即交证”工作的通知",
        office=BUREAU,
        doc_prefix="深住建",
        paragraphs=(
            "各区住房和建设局、各不动产登记机构，各房地产开发企业：",
            "为保障购房人及时取得不动产权证书，现就推进新建商品房“交房即交证”工作通知如下：",
            "一、开发企业应当在商品房交付使用之日起{cert_days}日内，为购房人申请办理不动产转移登记。",
            "二、开发企业在交付前应当完成竣工验收备案、面积实测及首次登记，并在交付现场设置办证服务点。",
            "三、交付时实测面积与合同约定面积不一致的，按照合同约定办理面积补差。",
            "四、本通知自{effective}起施行。",
        ),
        params={"cert_days": "90", "effective": "2026年3月1日"},
        edits=(Edit("number", {"cert_days": "60"}, "办证期限 90 日改为 60 日"),),
        attachments=(
            AttachmentSpec(
                label="附件：新建商品房“交房即交证”办事指南",
                fmt="pdf",
                lines=(
                    "新建商品房“交房即交证”办事指南",
                    "一、适用范围：本市新建商品房项目。",
                    "二、办理时限：交付使用之日起{cert_days}日内申请转移登记，登记机构{register_days}个工作日内办结。",
                    "三、所需材料：不动产登记申请书、商品房买卖合同、契税完税证明、身份证明。",
                    "四、办理地点：各区不动产登记中心或交付现场办证服务点。",
                ),
                params={"cert_days": "90", "register_days": "5"},
                replacement={"register_days": "3"},
                replace_note="办事指南：登记办结时限 5 个工作日改为 3 个工作日",
            ),
        ),
        topics=("交付/办证",),
    ),
    NoticeTemplate(
        key="deed_tax",
        channel="tzgg",
        title="国家税务总局深圳市税务局关于贯彻落实契税优惠政策有关事项的公告",
        office=TAX_BUREAU,
        doc_prefix="深税公告",
        paragraphs=(
            "为贯彻落实国家关于调整房地产交易环节契税政策的规定，现将有关事项公告如下：",
            "一、对个人购买家庭唯一住房，面积为140平方米及以下的，减按{small_rate}的税率征收契税。",
            "二、对个人购买家庭第二套住房，面积为140平方米及以下的，减按{second_rate}的税率征收契税。",
            "三、纳税人申报契税时，应当提交家庭住房情况书面查询结果。",
            "{extra}",
            "四、本公告自{effective}起施行。",
        ),
        params={"small_rate": "1%", "second_rate": "1%", "effective": "2026年1月1日", "extra": ""},
        edits=(
            Edit("number", {"second_rate": "2%"}, "二套契税 1% 改为 2%"),
            Edit(
                "sentence",
                {"extra": "纳税人已签订商品房买卖合同但尚未申报的，按照原规定执行。"},
                "新增一句：已签合同按原规定",
            ),
        ),
        topics=("契税/收费标准",),
    ),
    NoticeTemplate(
        key="holiday_duty",
        channel="tzgg",
        title="关于2026年清明节假期值班安排的通知",
        office=BUREAU,
        doc_prefix=None,
        paragraphs=(
            "局属各单位、机关各处室：",
            "根据国务院办公厅关于2026年部分节假日安排的通知，现将我局清明节假期值班安排通知如下：",
            "一、放假时间为4月4日至4月6日，共3天。",
            "二、值班时间为每日{duty_start}至次日{duty_start}，值班电话0755-12345678。",
            "三、值班人员应当坚守岗位，遇有突发事件及时报告。",
        ),
        params={"duty_start": "8:30"},
        edits=(Edit("date", {"duty_start": "9:00"}, "值班开始时间 8:30 改为 9:00"),),
    ),
    NoticeTemplate(
        key="broker_inspection",
        channel="tzgg",
        title="关于开展2026年度房地产经纪机构“双随机、一公开”检查的通知",
        office=BUREAU,
        doc_prefix="深住建函",
        paragraphs=(
            "各区住房和建设局，各房地产经纪机构：",
            "为规范房地产经纪行为，现决定开展2026年度房地产经纪机构“双随机、一公开”检查，有关事项通知如下：",
            "一、检查对象从全市已备案房地产经纪机构中随机抽取，抽查比例不低于{ratio}。",
            "二、检查内容包括机构备案、人员实名从业、房源信息发布、交易资金存管等情况。",
            "三、检查结果将在市住房和建设局网站公开。",
        ),
        params={"ratio": "5%"},
    ),
    NoticeTemplate(
        key="annual_report",
        channel="tzgg",
        title="深圳市住房和建设局2025年政府信息公开工作年度报告",
        office=BUREAU,
        doc_prefix=None,
        paragraphs=(
            "本报告根据《中华人民共和国政府信息公开条例》要求编制。",
            "一、总体情况：2025年，我局主动公开政府信息{published}条，受理依申请公开{requests}件。",
            "二、主动公开政府信息情况：制发规范性文件12件，公开行政许可事项办理结果。",
            "三、存在的主要问题及改进情况：进一步提升政策解读质量。",
        ),
        params={"published": "1286", "requests": "214"},
    ),
    NoticeTemplate(
        key="rental_briefing",
        channel="tzgg",
        title="关于举办2026年住房租赁政策宣讲会的通知",
        office=BUREAU,
        doc_prefix=None,
        paragraphs=(
            "各住房租赁企业，各有关单位：",
            "为宣传解读住房租赁有关政策，定于{date}下午14:30在市民中心C区举办住房租赁政策宣讲会。",
            "请各单位于会前两个工作日通过电子邮件报名，每家单位限2人参加。",
        ),
        params={"date": "2026年3月26日"},
        edits=(Edit("date", {"date": "2026年4月9日"}, "宣讲会日期 3月26日 改为 4月9日"),),
    ),
    NoticeTemplate(
        key="public_rental",
        channel="tzgg",
        title="深圳市住房保障署关于2026年第一批公共租赁住房配租的公告",
        office="深圳市住房保障署",
        doc_prefix=None,
        paragraphs=(
            "本批次公共租赁住房共{homes}套，面向已在轮候库中的申请人家庭配租。",
            "申请人应当于公告发布之日起15日内登录深圳市住房保障信息系统确认选房意向。",
            "逾期未确认的，视为放弃本次配租资格。",
        ),
        params={"homes": "3200"},
    ),
    NoticeTemplate(
        key="site_safety",
        channel="tzgg",
        title="关于开展建筑施工节后复工安全生产检查的通知",
        office=BUREAU,
        doc_prefix="深住建函",
        paragraphs=(
            "各区住房和建设局，各建设、施工、监理单位：",
            "为做好春节后建筑工地复工安全生产工作，现决定开展节后复工安全生产检查。",
            "一、检查时间为即日起至{until}。",
            "二、重点检查深基坑、高支模、起重机械等危险性较大的分部分项工程。",
            "{extra}",
        ),
        params={"until": "2026年3月31日", "extra": ""},
        edits=(
            Edit(
                "sentence",
                {"extra": "三、检查中发现重大事故隐患的，责令立即停工整改。"},
                "新增一句：重大隐患立即停工",
            ),
        ),
    ),
    # -- 政策法规 (UTF-8) ---------------------------------------------------------------------------
    NoticeTemplate(
        key="registration_fees",
        channel="zcfg",
        title="关于公布我市不动产登记收费标准的通知",
        office="深圳市发展和改革委员会",
        doc_prefix="深发改规",
        paragraphs=(
            "各区发展改革部门，各不动产登记机构：",
            "根据国家和省有关规定，现将我市不动产登记收费标准公布如下：",
            "一、住宅类不动产登记费每件{residential_fee}元，非住宅类不动产登记费每件550元。",
            "二、不动产权属证书工本费每本10元，向一个以上不动产权利人核发证书的，每增加一本加收证书工本费10元。",
            "三、具体收费项目及标准详见附件。",
            "四、本通知自{effective}起执行，有效期五年。",
        ),
        params={"residential_fee": "80", "effective": "2026年1月1日"},
        attachments=(
            AttachmentSpec(
                label="附件：深圳市不动产登记收费标准表",
                fmt="xlsx",
                lines=(
                    "收费项目|收费单位|收费标准（元）|备注",
                    "住宅类不动产登记费|件|{residential_fee}|含第一本证书工本费",
                    "非住宅类不动产登记费|件|550|含第一本证书工本费",
                    "证书工本费|本|{cert_fee}|第二本起收取",
                    "车库、车位、储藏室登记费|件|{parking_fee}|单独申请的",
                ),
                params={"residential_fee": "80", "cert_fee": "10", "parking_fee": "80"},
                replacement={"cert_fee": "5", "parking_fee": "40"},
                replace_note="收费标准表：证书工本费 10→5 元，车位登记费 80→40 元",
            ),
        ),
        topics=("契税/收费标准",),
    ),
    NoticeTemplate(
        key="property_fees",
        channel="zcfg",
        title="深圳市住宅物业服务收费指导价标准",
        office="深圳市发展和改革委员会",
        doc_prefix="深发改规",
        paragraphs=(
            "为规范住宅物业服务收费行为，现制定本市住宅物业服务收费指导价标准。",
            "一、多层住宅物业服务费指导价为每月每平方米{low_fee}元。",
            "二、高层住宅物业服务费指导价为每月每平方米{high_fee}元。",
            "三、物业服务企业应当在物业管理区域显著位置公示收费项目和收费标准。",
            "四、本标准自{effective}起执行。",
        ),
        params={"low_fee": "1.80", "high_fee": "3.50", "effective": "2026年2月1日"},
        edits=(Edit("number", {"high_fee": "3.20"}, "高层物业费指导价 3.50 改为 3.20 元"),),
        topics=("契税/收费标准",),
    ),
    NoticeTemplate(
        key="handover_rules",
        channel="zcfg",
        title="深圳市商品房交付使用管理规定",
        office=BUREAU,
        doc_prefix="深住建规",
        paragraphs=(
            "第一条 为规范商品房交付使用行为，保障购房人合法权益，制定本规定。",
            "第二条 商品房交付使用前，开发企业应当取得竣工验收备案证明文件和房屋面积实测报告。",
            "第三条 开发企业应当提前{notice_days}日书面通知购房人办理交付手续。",
            "第四条 本规定自{effective}起施行。",
        ),
        params={"notice_days": "15", "effective": "2026年3月1日"},
        edits=(Edit("number", {"notice_days": "30"}, "提前通知期 15 日改为 30 日"),),
        attachments=(
            AttachmentSpec(
                label="附件：商品房交付使用验收清单",
                fmt="pdf",
                lines=(
                    "商品房交付使用验收清单",
                    "1. 竣工验收备案证明文件",
                    "2. 房屋面积实测报告（误差比绝对值超过{area_tolerance}的，购房人有权退房）",
                    "3. 住宅质量保证书和住宅使用说明书",
                ),
                params={"area_tolerance": "2%"},
                replacement={"area_tolerance": "3%"},
                replace_note="验收清单：面积误差比 2% 改为 3%",
            ),
        ),
        topics=("交付/办证",),
    ),
    NoticeTemplate(
        key="hpf_withdrawal",
        channel="zcfg",
        title="深圳市住房公积金提取管理办法",
        office=HPF_CENTRE,
        doc_prefix="深公积金规",
        paragraphs=(
            "第一条 为规范住房公积金提取，保障缴存职工合法权益，制定本办法。",
            "第二条 购买自住住房的，可以提取本人及配偶住房公积金账户余额，提取总额不超过实际购房支出。",
            "第三条 租赁自住住房的，每月提取额度不超过{rent_cap}元。",
            "第四条 本办法自{effective}起施行。",
        ),
        params={"rent_cap": "2500", "effective": "2026年1月15日"},
        attachments=(
            AttachmentSpec(
                label="附件：住房公积金提取申请材料清单",
                fmt="docx",
                lines=(
                    "住房公积金提取申请材料清单",
                    "购房提取：购房合同、付款凭证、不动产权证书",
                    "租房提取：租赁合同或租赁备案证明，每月限额{rent_cap}元",
                ),
                params={"rent_cap": "2500"},
                replacement={"rent_cap": "3000"},
                replace_note="材料清单：租房提取每月限额 2500 元改为 3000 元",
            ),
        ),
        topics=("公积金",),
    ),
    NoticeTemplate(
        key="presale_standard",
        channel="zcfg",
        title="深圳市商品房预售资金监管办法实施细则",
        office=BUREAU,
        doc_prefix="深住建规",
        paragraphs=(
            "第一条 为规范商品房预售资金监管，根据有关规定，制定本细则。",
            "第二条 预售资金监管账户由开发企业在监管银行开立，一个预售许可对应一个监管账户。",
            "第三条 工程建设达到{milestone}的，开发企业可以申请拨付监管资金。",
            "第四条 本细则自{effective}起施行。",
        ),
        params={"milestone": "主体结构封顶", "effective": "2026年2月15日"},
        edits=(Edit("date", {"effective": "2026年3月15日"}, "施行日期 2月15日 改为 3月15日"),),
        attachments=(
            AttachmentSpec(
                label="附件：预售资金拨付申请表",
                fmt="pdf",
                lines=(
                    "预售资金拨付申请表",
                    "项目名称：________ 预售许可证号：________",
                    "本次申请拨付节点：{milestone}",
                    "申请拨付金额：________元",
                ),
                params={"milestone": "主体结构封顶"},
            ),
        ),
        topics=("预售资金监管",),
    ),
    NoticeTemplate(
        key="market_rules_draft",
        channel="zcfg",
        title="深圳市房地产市场监管办法（征求意见稿）",
        office=BUREAU,
        doc_prefix=None,
        paragraphs=(
            "为加强房地产市场监管，我局起草了《深圳市房地产市场监管办法（征求意见稿）》，现向社会公开征求意见。",
            "意见反馈截止时间为{deadline}。",
            "主要内容包括商品房销售、网签备案、房地产经纪及住房租赁等方面的监管措施。",
        ),
        params={"deadline": "2026年3月31日"},
        edits=(Edit("date", {"deadline": "2026年4月15日"}, "征求意见截止 3月31日 改为 4月15日"),),
        topics=("网签/备案",),
    ),
    NoticeTemplate(
        key="urban_renewal",
        channel="zcfg",
        title="深圳市城市更新项目保障性住房配建规定",
        office=BUREAU,
        doc_prefix="深住建规",
        paragraphs=(
            "第一条 为规范城市更新项目保障性住房配建，制定本规定。",
            "第二条 城市更新项目配建保障性住房的比例不低于住宅总建筑面积的{ratio}。",
            "第三条 本规定自{effective}起施行。",
        ),
        params={"ratio": "20%", "effective": "2026年1月1日"},
    ),
)

TEMPLATES_BY_KEY = {template.key: template for template in TEMPLATES}
