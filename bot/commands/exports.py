"""`shixiao export complaints`: complaints and their history as Excel, streamed row by row (openpyxl write-only).

It joins the shared `export` group (bot.commands.common.export_group). The period is whole local days from
--from to --to, --area a township or village; the file is written under a temporary name and moved into place
only when complete, so a failed export never leaves a half file behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import console, export_group, fail, load_settings, progress, run_async, xlsx_out
from bot.db_open import open_database
from bot.xlsx_book import DATE_WIDTH, MOMENT_WIDTH, Book
from bot.xlsx_exports import PHOTO_FAILED, PHOTO_PENDING
from handlers.complaints.categories import default_config
from handlers.complaints.privacy import Audience, complainant_identity
from handlers.texts import Texts
from storage import complaint_stats
from storage.areas import AmbiguousArea, AreaNotFound, find_area, list_areas
from storage.complaint_models import Complaint, ComplaintEvent
from storage.models import Area, AreaLevel, Role, User

DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class ExportProblem(Exception):
    """A mistake in the command line, explained in Chinese."""


def parse_day(text: str, option: str) -> date:
    match = DATE_PATTERN.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ExportProblem(f"{option} 的日期“{text}”无法识别，请写作 2026-05-01（年-月-日）。") from None


def period(start: str | None, end: str | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    first = parse_day(start, "--from") if start else None
    last = parse_day(end, "--to") if end else None
    if first and last and first > last:
        raise ExportProblem(f"起始日期（{first}）晚于截止日期（{last}），请检查 --from 和 --to。")
    return (
        datetime.combine(first, time(), tz) if first else None,
        datetime.combine(last + timedelta(days=1), time(), tz) if last else None,
    )


def output_path(out: Path) -> Path:
    if not out.parent.exists():
        raise ExportProblem(f"输出目录“{out.parent}”不存在，请先创建。")
    return out


async def resolve_area(session: AsyncSession, name: str | None) -> Area | None:
    if not name:
        return None
    try:
        return await find_area(session, name)
    except AreaNotFound:
        raise ExportProblem(f"找不到区域“{name}”。可用 `shixiao areas list` 查看乡镇和村的名称。") from None
    except AmbiguousArea as error:
        raise ExportProblem(f"区域“{name}”有重名：{'、'.join(error.candidates)}。请写作 乡镇/村。") from None


# --- complaints ---------------------------------------------------------------------------------------------

COMPLAINT_HEADERS = (
    "编号",
    "提交时间",
    "类别",
    "状态",
    "乡镇",
    "村（社区）",
    "被投诉单位",
    "是否为档案内单位",
    "问题描述",
    "照片数",
    "照片引用",
    "纬度",
    "经度",
    "提交方式",
    "投诉人姓名",
    "投诉人电话",
    "承办单位",
    "办理期限",
    "是否超期",
    "上报县整规办时间",
    "办结时间",
    "重新办理次数",
    "投诉人反馈",
)
COMPLAINT_WIDTHS = {
    "提交时间": MOMENT_WIDTH,
    "办理期限": DATE_WIDTH,
    "上报县整规办时间": MOMENT_WIDTH,
    "办结时间": MOMENT_WIDTH,
}
IDENTITY_HEADERS = ("投诉人姓名", "投诉人电话")  # left out of the --for-township file
ANONYMOUS_PLACES = 3  # decimal places kept of an anonymous complaint's location: about 100 m, never a doorstep
EVENT_HEADERS = (
    "投诉编号",
    "时间",
    "事项",
    "办理人",
    "原状态",
    "新状态",
    "原承办单位",
    "新承办单位",
    "原类别",
    "新类别",
    "说明",
)
EVENT_KINDS = {
    "filed": "提交",
    "status": "状态变更",
    "rerouted": "转办",
    "reopened": "重新办理",
    "feedback": "投诉人确认解决",
    "escalated": "超期上报",
}
FEEDBACK = {"resolved": "已解决", "not_resolved": "未解决（已重新办理）"}


class ComplaintRows:
    """Turns complaints and their events into rows; identity only as the county office may see it."""

    def __init__(
        self, areas: Iterable[Area], texts: Texts, tz: ZoneInfo, today: date, audience: Audience = Audience.COUNTY
    ) -> None:
        self.areas = {area.id: area for area in areas}
        self.texts, self.tz, self.today, self.audience = texts, tz, today, audience
        self.config = default_config()
        self.complainants: dict[int, int] = {}  # complaint id -> complainant id, for the events sheet

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.tz).replace(tzinfo=None) if moment else None

    def area(self, area_id: int | None) -> str:
        area = self.areas.get(area_id) if area_id is not None else None
        if area is None:
            return ""
        return self.texts("complaint_county_office") if area.level == AreaLevel.COUNTY else area.name

    def status(self, status: str | None) -> str:
        return self.texts(f"complaint_status_{status}") if status else ""

    @property
    def headers(self) -> tuple[str, ...]:
        if self.audience is Audience.COUNTY:
            return COMPLAINT_HEADERS
        return tuple(header for header in COMPLAINT_HEADERS if header not in IDENTITY_HEADERS)

    def complaint(self, c: Complaint, photos: int, references: str = "") -> list[Any]:
        """`references`: the photos' stable paths in the media store (or 待保存 / 未能保存), joined by "|"."""
        self.complainants[c.id] = c.complainant_id
        identity = complainant_identity(c, self.audience)
        overdue = c.due_on < (c.final_at.astimezone(self.tz).date() if c.final_at else self.today)
        latitude, longitude = c.latitude, c.longitude
        if c.anonymous and latitude is not None and longitude is not None:
            latitude, longitude = round(latitude, ANONYMOUS_PLACES), round(longitude, ANONYMOUS_PLACES)
        identity_cells = [identity.name or "", identity.phone or ""] if self.audience is Audience.COUNTY else []
        return [
            c.number,
            self.local(c.created_at),
            self.config.name(c.category),
            self.status(c.status),
            self.area(c.township_id),
            self.area(c.village_id),
            c.unit_name or "",
            "是" if c.unit_id else "否",
            c.description,
            photos,
            references,
            latitude,
            longitude,
            "匿名" if c.anonymous else "实名",
            *identity_cells,
            self.area(c.office_area_id),
            c.due_on,
            "是" if overdue else "否",
            self.local(c.escalated_at),
            self.local(c.final_at),
            c.reopen_count,
            FEEDBACK.get(c.feedback or "", ""),
        ]

    def event(self, number: str, e: ComplaintEvent, officials: dict[int, str]) -> list[Any]:
        if e.actor_id is None:
            actor = "系统"
        elif e.actor_id == self.complainants.get(e.complaint_id):
            actor = "投诉人"  # never a name: an anonymous complainant stays anonymous here too
        else:
            actor = officials.get(e.actor_id, "")
        return [
            number,
            self.local(e.created_at),
            EVENT_KINDS.get(e.kind, e.kind),
            actor,
            self.status(e.from_status),
            self.status(e.to_status),
            self.area(e.from_area_id),
            self.area(e.to_area_id),
            self.config.name(e.from_category) if e.from_category else "",
            self.config.name(e.to_category) if e.to_category else "",
            e.note,
        ]


async def _officials(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(User.id, User.name).where(User.role.in_([Role.TOWNSHIP, Role.COUNTY])))
    return {user_id: name or "" for user_id, name in rows}


async def export_complaints(
    scope_args: tuple[str | None, str | None, str | None], out: Path, audience: Audience = Audience.COUNTY
) -> tuple[int, int]:
    settings = load_settings()
    tz = settings.tz
    start, end = period(scope_args[0], scope_args[1], tz)
    db = await open_database(settings)
    sheets = Book()
    try:
        async with db.transaction() as session:
            area = await resolve_area(session, scope_args[2])
            rows = ComplaintRows(await list_areas(session), Texts.load(), tz, datetime.now(tz).date(), audience)
            total = await complaint_stats.count_for_export(session, start, end, area)
            main = sheets.sheet("投诉", rows.headers, COMPLAINT_WIDTHS)
            events = 0
            with progress() as bar:
                task = bar.add_task("导出投诉", total=total)
                stream = complaint_stats.stream_for_export(session, start, end, area, PHOTO_PENDING, PHOTO_FAILED)
                async for complaint, photos, references in stream:
                    main.append(rows.complaint(complaint, photos, references))
                    bar.advance(task)
                history = sheets.sheet("办理记录", EVENT_HEADERS, {"时间": MOMENT_WIDTH})
                officials = await _officials(session)
                async for number, event in complaint_stats.stream_events_for_export(session, start, end, area):
                    history.append(rows.event(number, event, officials))
                    events += 1
        sheets.save(out)
        return total, events
    finally:
        await db.dispose()


def export_complaints_command(
    start: str | None = typer.Option(None, "--from", help="起始日期（含），如 2026-05-01；不填为最早"),
    end: str | None = typer.Option(None, "--to", help="截止日期（含），如 2026-05-31；不填为最新"),
    area: str | None = typer.Option(None, "--area", help="乡镇或村的名称（重名时写作 乡镇/村）；不填为全县"),
    out: Path = xlsx_out("投诉.xlsx"),
    for_township: bool = typer.Option(False, "--for-township", help="给乡镇的版本：不含投诉人姓名和电话两列"),
) -> None:
    """导出投诉举报及其办理记录（实名投诉人的姓名和电话仅在县级导出中出现，--for-township 不含这两列；匿名投诉不含任何身份信息，位置只精确到约100米）。"""
    audience = Audience.TOWNSHIP if for_township else Audience.COUNTY
    try:
        target = output_path(out)
        total, events = run_async(export_complaints((start, end, area), target, audience))
    except ExportProblem as problem:
        fail(str(problem))
    console.print(f"已导出 {total} 件投诉（办理记录 {events} 条）到 {target}", highlight=False)


def register(app: typer.Typer) -> None:
    export_group(app).command("complaints")(export_complaints_command)
