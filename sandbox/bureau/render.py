"""HTML of the bureau site: list pages (before and after the redesign), notice pages, error pages.

Every page carries the noise real government sites have: the date of today in the header, a rotating
banner, a visit counter, "related reading" picked anew on each visit, the time of the request, a
cache-busting script address. None of it is a change of a notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sandbox.bureau.world import CHANNELS, EXTERNAL_ITEM_PATH, EXTERNAL_ITEM_TITLE, NoticeState

SITE_NAME = "深圳市住房和建设局"
TITLE_WIDTH = 24
BANNERS = (
    "学习贯彻党的二十届四中全会精神",
    "优化营商环境 提升政务服务效能",
    "住房公积金业务“跨省通办”",
    "安全生产月 人人讲安全",
)
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Noise:
    """What differs on every visit: the visit count, the moment shown, the banner, related links."""

    visits: int
    now: datetime
    related: tuple[tuple[str, str], ...] = ()

    @property
    def banner(self) -> str:
        return BANNERS[self.visits % len(BANNERS)]

    @property
    def shown_time(self) -> str:
        return self.now.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def today(self) -> str:
        now = self.now
        return f"今天是{now.year}年{now.month}月{now.day}日 星期{_WEEKDAYS[now.weekday()]}"


@dataclass(frozen=True)
class ListEntry:
    title: str
    path: str
    published: str


def head(title: str, charset_tag: str, noise: Noise) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f"{charset_tag}\n<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/css/style.css">\n'
        f'<script src="/js/stat.js?t={noise.visits}"></script>\n'
        "</head>\n<body>\n"
        '<div class="header">'
        f'<div class="logo"><a href="/">{SITE_NAME}</a></div>'
        f'<div class="today">{noise.today}</div>'
        f'<div id="banner"><a href="/ztzl/{noise.visits % len(BANNERS)}.html">'
        f'<img src="/images/banner{noise.visits % len(BANNERS)}.jpg" alt="{escape(noise.banner)}"></a>'
        f"<span>{escape(noise.banner)}</span></div>"
        "</div>\n"
        '<div class="nav"><a href="/">首页</a> <a href="/xxgk/tzgg/index.html">通知公告</a> '
        '<a href="/xxgk/zcfg/index.html">政策法规</a></div>\n'
    )


def foot(noise: Noise) -> str:
    return (
        '<div class="footer"><p>主办：深圳市住房和建设局　地址：深圳市福田区福中路150号</p>'
        f'<p>本站访问量：<span id="visits">{noise.visits + 1_234_567}</span>　页面生成时间：{noise.shown_time}</p>'
        "<p>粤ICP备12345678号</p></div>\n</body>\n</html>\n"
    )


def charset_tag(charset: str, *, http_equiv: bool) -> str:
    if http_equiv:
        return f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    return f'<meta charset="{charset}">'


def list_entries(channel: str, notices: list[NoticeState]) -> list[ListEntry]:
    """The channel's list items, newest first (the 政策法规 list also links to the province's site)."""
    entries = [ListEntry(state.title, state.path, state.published_at.strftime("%Y-%m-%d")) for state in notices]
    if channel == "zcfg":
        entries.append(ListEntry(EXTERNAL_ITEM_TITLE, EXTERNAL_ITEM_PATH, "2026-02-24"))
        entries.sort(key=lambda e: e.published, reverse=True)
    return entries


def list_page(
    channel: str,
    entries: list[ListEntry],
    *,
    page: int,
    pages: int,
    redesigned: bool,
    charset: str,
    noise: Noise,
) -> str:
    name = CHANNELS[channel]
    tag = charset_tag(charset, http_equiv=charset != "utf-8")
    body = _redesigned_list(entries, page, pages) if redesigned else _classic_list(entries, page, pages)
    return (
        head(f"{name}-{SITE_NAME}", tag, noise)
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; 信息公开 &gt; {name}</div>\n'
        + body
        + foot(noise)
    )


def _short(title: str) -> str:
    return title if len(title) <= TITLE_WIDTH else title[:TITLE_WIDTH] + "..."


def _classic_list(entries: list[ListEntry], page: int, pages: int) -> str:
    items = []
    for entry in entries:
        # notices are linked relative to the list page, as the CMS writes them
        href = "./content/" + entry.path.rsplit("/", 1)[1] if "/content/" in entry.path else entry.path
        items.append(
            f'<li><span>{entry.published}</span><a href="{escape(href)}" title="{escape(entry.title)}" '
            f'target="_blank">{escape(_short(entry.title))}</a></li>'
        )
    return (
        '<div class="zx_ml_list">\n<ul>\n'
        + "\n".join(items)
        + "\n</ul>\n</div>\n"
        + '<div class="zx_ml_list_page"><script type="text/javascript">'
        + f'createPageHTML({pages}, {page}, "index", "html");</script></div>\n'
    )


def _redesigned_list(entries: list[ListEntry], page: int, pages: int) -> str:
    items = []
    for entry in entries:
        day = entry.published.replace("-", "/")
        items.append(
            '<div class="list-item">'
            f'<h3><a class="list-title" href="{escape(entry.path)}">{escape(entry.title)}</a></h3>'
            f'<p class="list-time">{day}</p></div>'
        )
    return (
        '<div class="list-content">\n'
        + "\n".join(items)
        + "\n</div>\n"
        + f'<div class="pagination" data-pages="{pages}"><script>'
        + f"initPagination({{pages: {pages}, current: {page + 1}}});</script></div>\n"
    )


def notice_page(state: NoticeState, *, charset: str, noise: Noise) -> str:
    name = CHANNELS[state.channel]
    tag = charset_tag(charset, http_equiv=False)
    published = state.published_at
    index_no = f"11440300MB2D0861X4/{published.year}-{int(state.notice_id[-5:]):05d}"
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in state.paragraphs())
    related = "".join(f'<li><a href="{escape(path)}">{escape(title)}</a></li>' for title, path in noise.related)
    attachments = ""
    if state.attachments:
        links = "".join(
            f'<li><a href="{escape(a.path)}">{escape(a.label)}.{a.spec.fmt}</a></li>' for a in state.attachments
        )
        attachments = f'<div class="article-attachments"><p>附件：</p><ul>{links}</ul></div>\n'
    return (
        head(f"{state.title}-{SITE_NAME}", tag, noise)
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; 信息公开 &gt; {name}</div>\n'
        + '<div class="article">\n'
        + f'<h1 class="article-title">{escape(state.title)}</h1>\n'
        + '<div class="article-info">'
        + f"发布时间：{published.strftime('%Y-%m-%d %H:%M')}　　来源：{escape(state.office)}"
        + f"　　浏览次数：{noise.visits + 317}</div>\n"
        + '<table class="article-meta">'
        + f"<tr><th>索引号</th><td>{index_no}</td><th>发布机构</th><td>{escape(state.office)}</td></tr>"
        + f"<tr><th>文号</th><td>{escape(state.doc_number or '')}</td>"
        + f"<th>发布日期</th><td>{published.strftime('%Y-%m-%d')}</td></tr></table>\n"
        + '<div class="article-content" id="zoom">\n'
        + '<div class="article-tools">【字体：<a>大</a> <a>中</a> <a>小</a>】'
        + '【<a href="javascript:window.print()">打印本页</a>】'
        + f'<span class="print-time">当前时间：{noise.shown_time}</span></div>\n'
        + f"{paragraphs}\n"
        + attachments
        + f'<p class="views">浏览次数：{noise.visits + 317}</p>\n'
        + f'<div class="related"><h4>相关阅读</h4><ul>{related}</ul></div>\n'
        + "</div>\n"
        + "</div>\n"
        + foot(noise)
    )


def home_page(noise: Noise) -> str:
    links = "".join(f'<li><a href="/xxgk/{key}/index.html">{name}</a></li>' for key, name in CHANNELS.items())
    return head(SITE_NAME, charset_tag("utf-8", http_equiv=False), noise) + f"<ul>{links}</ul>\n" + foot(noise)


def not_found_page() -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>页面不存在</title></head>'
        '<body><div class="error"><h2>抱歉，您访问的页面不存在或已被删除！</h2>'
        '<p><a href="/">返回首页</a></p></div></body></html>\n'
    )


def withdrawn_page() -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>提示信息</title></head>'
        '<body><div class="error"><h2>抱歉，您访问的信息已撤销。</h2>'
        '<p><a href="/">返回首页</a></p></div></body></html>\n'
    )


def maintenance_page(until: datetime | None) -> str:
    back = f"预计{until.strftime('%m月%d日%H:%M')}恢复访问。" if until else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>系统维护中</title></head>'
        '<body><div class="maintain"><h2>系统维护中</h2>'
        f"<p>为提供更优质的服务，网站正在进行系统升级维护，{back}给您带来不便，敬请谅解。</p>"
        "</div></body></html>\n"
    )


def bad_gateway_page() -> str:
    return (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
