"""A digest as Chinese text (messages within Telegram's 4096 characters) and as a PNG chart."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.formatting import cn_date, cn_number, cn_numeral, cn_percent
from handlers.texts import Texts
from storage.digest import AreaLine, Digest, Share
from storage.inspection_models import UnitStatus
from storage.models import AreaLevel

# Matplotlib in one thread at a time (charts here, rectification sheets in handlers/rectification_pdf.py): its font
# cache and text layout are shared by every figure of the process.
RENDERING = threading.Lock()

MESSAGE_LIMIT = 4000  # Telegram allows 4096; leave room


def _rate(share: Share) -> str:
    return cn_percent(share.part, share.whole)


def digest_text(digest: Digest, texts: Texts, industry_names: dict[str, str], tz: ZoneInfo) -> str:
    t = texts
    counts = digest.status_counts
    last_day = (digest.end - timedelta(seconds=1)).astimezone(tz)
    # (heading, lines) per section; numbered 一、二、… once all are known, so a section left out leaves no gap
    sections: list[tuple[str, list[str]]] = []
    progress = [
        t(
            "digest_units",
            total=cn_number(digest.units),
            compliant=counts.get(UnitStatus.COMPLIANT, 0),
            rectifying=counts.get(UnitStatus.RECTIFYING, 0),
            unchecked=counts.get(UnitStatus.UNCHECKED, 0),
            pending=digest.pending_closure,
            closed=digest.closed,
        ),
        t(
            "digest_rate",
            rate=_rate(digest.share),
            part=digest.share.part,
            whole=digest.share.whole,
            pending=digest.pending_closure,
            closed=digest.closed,
        ),
    ]
    sections.append((t("digest_progress_head"), progress))
    targets = digest.targets
    verdict = {True: t("digest_verdict_yes"), False: t("digest_verdict_no")}
    if digest.scope_level == AreaLevel.TOWNSHIP:
        progress.append(
            t(
                "digest_township_complete",
                target=targets.township_unit_share,
                verdict=verdict[digest.share.reaches(targets.township_unit_share)],
            )
        )
    else:
        share = digest.townships_complete
        progress.append(
            t(
                "digest_county_townships",
                part=share.part,
                whole=share.whole,
                rate=_rate(share),
                target=targets.county_township_share,
                verdict=verdict[share.reaches(targets.county_township_share)],
            )
        )
        ranking = []
        for number, line in enumerate(digest.townships, start=1):
            mark = t("digest_complete_mark") if line.complete else ("" if line.units else t("digest_no_units"))
            pending = t("digest_ranking_pending", n=line.pending_closure) if line.pending_closure else ""
            ranking.append(
                t(
                    "digest_ranking_line",
                    n=number,
                    name=line.name,
                    rate=_rate(line.share),
                    part=line.share.part,
                    whole=line.share.whole,
                    pending=pending,
                    mark=mark,
                )
            )
        sections.append((t("digest_ranking_head", target=targets.township_unit_share), ranking))
    industries = [
        t(
            "digest_industry_line",
            name=industry_names.get(industry.slug, industry.slug),
            rate=_rate(industry.share),
            part=industry.share.part,
            whole=industry.share.whole,
            mark="✓" if industry.meets_target else "✗",
        )
        for industry in digest.industries
    ]
    sections.append((t("digest_industry_head", target=targets.industry_unit_share), industries or [t("digest_none")]))
    change = digest.inspections_this_week - digest.inspections_last_week
    trend = (
        t("digest_trend_up", n=change)
        if change > 0
        else t("digest_trend_down", n=-change)
        if change < 0
        else t("digest_trend_same")
    )
    sections.append(
        (
            t("digest_work_head"),
            [
                t(
                    "digest_inspections",
                    this=digest.inspections_this_week,
                    last=digest.inspections_last_week,
                    trend=trend,
                ),
                t(
                    "digest_complaints",
                    opened=digest.complaints_opened,
                    closed=digest.complaints_closed,
                    overdue=digest.complaints_overdue,
                ),
                t("digest_overdue_rectifications", n=digest.overdue_rectifications),
            ],
        )
    )
    lines = [t("digest_title", scope=digest.scope_name, start=cn_date(digest.start, tz), end=cn_date(last_day))]
    if digest.sample_units:
        lines.append(t("digest_sample_note", n=digest.sample_units))
    for number, (heading, body) in enumerate(sections, start=1):
        lines += ["", t("digest_section", n=cn_numeral(number), heading=heading), *body]
    return "\n".join(lines)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at line breaks so that every part fits one Telegram message."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line: hard cut
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


@lru_cache(maxsize=1)
def font_family() -> str:
    """A font that has Chinese glyphs: an installed one, else the Noto Sans CJK collection shipped as a package."""
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Micro Hei", "SimHei")
    installed = {font.name for font in font_manager.fontManager.ttflist}
    for name in wanted:
        if name in installed:
            return name
    import noto_cjk_sans_otc

    path = str(noto_cjk_sans_otc.FONT_PATH)
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def chart_lines(digest: Digest) -> list[AreaLine]:
    """The bars: a county's townships; a township's villages (its own line alone would be a single bar)."""
    return digest.villages if digest.scope_level == AreaLevel.TOWNSHIP else digest.townships


def chart_caption(digest: Digest, texts: Texts) -> str:
    key = "digest_chart_caption_villages" if digest.scope_level == AreaLevel.TOWNSHIP else "digest_chart_caption"
    sample = texts("digest_chart_sample") if digest.sample_units else ""
    return (
        texts(key, scope=digest.scope_name, target=digest.targets.township_unit_share)
        + sample
        + texts("digest_chart_closures", pending=digest.pending_closure, closed=digest.closed)
    )


def chart_png(digest: Digest, texts: Texts, out: Path) -> Path:
    """Compliance by township (county) or by village (township) as a bar chart with the 80% line."""
    # Matplotlib's object-oriented API, not pyplot: no global figure registry, so charts can be drawn off the event
    # loop (handlers/report.py) and two at once without sharing state.
    from matplotlib.figure import Figure

    family = font_family()
    lines = chart_lines(digest)
    names = [line.name for line in lines]
    rates = [(line.share.rate or 0.0) * 100 for line in lines]
    colours = ["#2e7d32" if line.complete else "#c62828" for line in lines]
    with RENDERING:
        figure = Figure(figsize=(max(6.0, 0.6 * len(lines) + 2), 4.2), dpi=120)
        axis = figure.subplots()
        axis.bar(names, rates, color=colours)
        target = digest.targets.township_unit_share
        axis.axhline(target, color="#1565c0", linestyle="--", linewidth=1.5)
        axis.text(len(names) - 0.5, target + 1.5, f"{target}%", color="#1565c0", ha="right", family=family)
        for index, (rate, line) in enumerate(zip(rates, lines, strict=True)):
            axis.text(
                index, rate + 1, f"{rate:.0f}%" if line.share.whole else "—", ha="center", fontsize=8, family=family
            )
        axis.set_ylim(0, 110)
        axis.set_ylabel("达标率（%）", family=family)
        axis.set_title(chart_caption(digest, texts), family=family)
        for label in axis.get_xticklabels():
            label.set_fontfamily(family)
            label.set_rotation(30 if len(names) > 8 else 0)
        figure.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, format="png")
    return out
