"""The printable 整改告知单 (rectification notice) as a PDF, drawn with matplotlib (already used for the digest's
charts) in Noto Sans CJK. Matplotlib's PDF backend embeds the glyphs it draws (Type 3 subsets), so the sheet
prints the same on a machine without any Chinese font."""

from __future__ import annotations

import textwrap
import threading
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from handlers.digest_render import RENDERING, font_family
from handlers.formatting import cn_date

A4 = (8.27, 11.69)  # inches
WRAP = 38  # Chinese characters per line at the body's size
LINES_PER_PAGE = 46
TITLE = "整改告知单"


@dataclass(frozen=True)
class FailedItem:
    requirement: str  # what the standard requires (the checklist item)
    source: str  # where it is written
    guidance: str  # how to put it right (the knowledge base's answer)
    note: str = ""  # what the cadre saw


@dataclass(frozen=True)
class RectificationNotice:
    number: str  # the report's number, JC000012
    unit: str
    address: str
    place: str  # 岩头镇芙蓉村
    industry: str
    inspected_on: date
    result: str
    unit_class: str
    items: tuple[FailedItem, ...]
    deadline: date | None
    office: str  # the township office
    contact: str  # whom to call there

    def as_payload(self) -> dict[str, Any]:
        """The notice as JSON for an outbox row: the sender renders the sheet from it (`ensure_sheet`)."""
        body = asdict(self)
        body["inspected_on"] = self.inspected_on.isoformat()
        body["deadline"] = self.deadline.isoformat() if self.deadline else None
        return body

    @classmethod
    def from_payload(cls, body: dict[str, Any]) -> RectificationNotice:
        fields = dict(body)
        fields["inspected_on"] = date.fromisoformat(body["inspected_on"])
        fields["deadline"] = date.fromisoformat(body["deadline"]) if body.get("deadline") else None
        fields["items"] = tuple(FailedItem(**item) for item in body["items"])
        return cls(**fields)


def ensure_sheet(payload: dict[str, Any]) -> None:
    """Before an outbox document is sent: render its sheet if the payload carries one and the file is not there.
    Rendering (0.3–0.5 s of CPU) thus happens in the sender, outside any transaction, on the instance that sends
    (another instance's local file would be missing), and again if the file was lost."""
    body = payload.get("sheet")
    if not isinstance(body, dict) or not payload.get("document"):
        return
    path = Path(payload["document"])
    if not path.is_file():
        write_pdf(RectificationNotice.from_payload(body), path)


def _wrapped(text: str, indent: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, WRAP, initial_indent=indent, subsequent_indent=indent) or [indent]
    return lines


def sheet_lines(notice: RectificationNotice) -> list[str]:
    """The sheet's body, line by line (also what the tests read back)."""
    lines = [f"编号：{notice.number}", f"单位名称：{notice.unit}"]
    if notice.address:
        lines += _wrapped(f"经营地址：{notice.address}")
    lines += [
        f"所在村：{notice.place}",
        f"行业：{notice.industry}",
        f"检查日期：{cn_date(notice.inspected_on)}",
        f"检查结果：{notice.result}（{notice.unit_class}）",
        "",
    ]
    if notice.items:
        lines.append(f"经检查，发现以下{len(notice.items)}项不符合要求：")
        for number, item in enumerate(notice.items, start=1):
            lines += _wrapped(f"{number}. {item.requirement}")
            if item.note:
                lines += _wrapped(f"现场情况：{item.note}", "    ")
            lines += _wrapped(f"依据：{item.source}", "    ")
            lines += _wrapped(f"整改指引：{item.guidance}", "    ")
        lines.append("")
    if notice.deadline is not None:
        lines += _wrapped(f"请于{cn_date(notice.deadline)}前整改完毕。整改完成后，村干部将上门复查。")
    lines += _wrapped(f"联系单位：{notice.office}")
    lines += _wrapped(notice.contact)
    lines += ["", "业主签收：____________        日期：____________"]
    return lines


def write_pdf(notice: RectificationNotice, out: Path) -> Path:
    # Figures of their own (not pyplot's global state), one rendering at a time (RENDERING): the sender renders in
    # threads, and digest charts are drawn off the event loop too.
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    family = font_family()
    lines = sheet_lines(notice)
    pages = [lines[start : start + LINES_PER_PAGE] for start in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{threading.get_ident()}.part")
    with RENDERING, PdfPages(partial, metadata={"Title": f"{TITLE} {notice.number}"}) as pdf:
        for index, page in enumerate(pages):
            figure = Figure(figsize=A4)
            if index == 0:
                figure.text(0.5, 0.94, TITLE, ha="center", fontsize=20, family=family, weight="bold")
                figure.text(0.5, 0.91, notice.office, ha="center", fontsize=11, family=family)
            top = 0.87 if index == 0 else 0.94
            for row, line in enumerate(page):
                figure.text(0.08, top - row * 0.0175, line, fontsize=10.5, family=family, va="top")
            figure.text(0.5, 0.03, f"第{index + 1}页 共{len(pages)}页", ha="center", fontsize=8, family=family)
            pdf.savefig(figure)
    partial.replace(out)  # never a half-written sheet under the name the outbox refers to
    return out
