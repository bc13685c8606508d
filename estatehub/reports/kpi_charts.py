"""The KPI email's charts, as PNG bytes (matplotlib, Agg backend): labels in the report's language.

    png = trend_chart(data.trend, labels, week_targets)      # signings and collections by week, against target
    png = ageing_chart(data.receivables, labels)             # receivables outstanding by ageing bucket
    png = pipeline_chart(data.pipeline, labels)              # loans by bank, stacked by stage

Chinese labels need a CJK font: the one `make browser` installs (fonts-wqy-microhei), else any Noto /
Source Han CJK font the system has. `CjkFontMissing` says what to install when there is none: a chart
of square boxes is never sent.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from estatehub.money import wan  # noqa: E402

FEN_PER_WAN = 1_000_000
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CJK_FAMILY_WORDS = ("WenQuanYi", "Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "Droid Sans Fallback")
STAGE_ORDER = ("资料收齐", "已递交", "已审批", "已签借款合同", "抵押(预告)登记", "已放款", "拒贷")
DONE_STAGES = ("已放款", "拒贷", "已撤销")
COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#9D755D", "#E45756", "#BAB0AC")


class CjkFontMissing(RuntimeError):
    """No font with Chinese glyphs: charts would show square boxes."""


@functools.cache
def cjk_font() -> str:
    """The family name of a CJK font matplotlib can use (registered once per process)."""
    for path in CJK_FONT_FILES:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    for entry in font_manager.fontManager.ttflist:
        if any(word in entry.name for word in CJK_FAMILY_WORDS):
            return entry.name
    raise CjkFontMissing(
        "expected a CJK font for the charts' Chinese labels, found none: install fonts-wqy-microhei "
        "(`make browser` does) or a Noto Sans CJK font"
    )


def _figure(width: float = 7.2, height: float = 3.2) -> tuple[Figure, Any]:
    plt.rcParams["font.family"] = [cjk_font(), "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e8ec", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _wan(fen: int) -> float:
    return fen / FEN_PER_WAN  # for drawing only; every number printed comes from estatehub.money


def trend_chart(
    trend: Sequence[tuple[date, int, int]], labels: dict[str, str], targets: tuple[int | None, int | None]
) -> bytes:
    """Signings and collections per week (万元) as bars, the weekly targets as dashed lines."""
    fig, ax = _figure()
    xs = range(len(trend))
    width = 0.4
    ax.bar(
        [x - width / 2 for x in xs], [_wan(s) for _, s, _ in trend], width, label=labels["signings"], color=COLOURS[0]
    )
    ax.bar(
        [x + width / 2 for x in xs],
        [_wan(c) for _, _, c in trend],
        width,
        label=labels["collections"],
        color=COLOURS[1],
    )
    sign_target, coll_target = targets
    if sign_target is not None:
        ax.axhline(_wan(sign_target), color=COLOURS[0], linestyle="--", linewidth=1, label=labels["signings_target"])
    if coll_target is not None:
        ax.axhline(
            _wan(coll_target), color=COLOURS[1], linestyle=":", linewidth=1.2, label=labels["collections_target"]
        )
    ax.set_xticks(list(xs), [f"{monday:%m-%d}" for monday, _, _ in trend], fontsize=8)
    ax.set_ylabel(labels["wan"])
    ax.set_title(labels["chart_trend"], fontsize=11)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    return _png(fig)


def ageing_chart(buckets: dict[str, int], labels: dict[str, str], names: dict[str, str]) -> bytes:
    """Receivables outstanding by ageing bucket (万元)."""
    fig, ax = _figure(height=2.8)
    keys = list(buckets)
    colours = ["#9aa5b1", "#72B7B2", "#F2CF5B", "#F58518", "#E45756", "#9E1B32"][: len(keys)]
    bars = ax.bar([names[k] for k in keys], [_wan(buckets[k]) for k in keys], color=colours)
    ax.bar_label(bars, labels=[wan(buckets[k], 1) for k in keys], fontsize=8)
    ax.set_ylabel(labels["wan"])
    ax.set_title(labels["chart_ageing"], fontsize=11)
    return _png(fig)


def pipeline_chart(pipeline: Sequence[dict[str, Any]], labels: dict[str, str], bank_name) -> bytes:
    """Loans in progress by bank, one horizontal bar per bank stacked by stage (disbursed, refused and
    withdrawn loans are done: the table lists them, the chart leaves them out)."""
    rows = [row for row in pipeline if row["stage"] not in DONE_STAGES]
    banks = sorted({row["bank"] for row in rows})
    stages = sorted({row["stage"] for row in rows}, key=lambda s: (STAGE_ORDER + (s,)).index(s))
    fig, ax = _figure(height=max(2.4, 0.45 * len(banks) + 1.8))
    left = [0] * len(banks)
    for i, stage in enumerate(stages):
        counts = [sum(r["loans"] for r in rows if r["bank"] == b and r["stage"] == stage) for b in banks]
        ax.barh([bank_name(b) for b in banks], counts, left=left, label=stage, color=COLOURS[i % len(COLOURS)])
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_xlabel(labels["loans"])
    ax.set_title(labels["chart_pipeline"], fontsize=11)
    ax.grid(axis="x", color="#e5e8ec", linewidth=0.8)
    ax.grid(axis="y", visible=False)
    if stages:
        ax.legend(fontsize=8, frameon=False, ncol=min(5, len(stages)), loc="upper center", bbox_to_anchor=(0.5, -0.3))
    else:
        ax.text(0.5, 0.5, labels["pipeline_none"], ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    return _png(fig)
