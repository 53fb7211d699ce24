"""Plan milestones for officials: mark one done (with an optional note), the "计划节点" overview, and for the
county office the townships that have not done a milestone yet.

A township official marks for their own township; a county official marks the county-level part (县整规办,
牵头部门, 各部门). Phase starts are notices only.
"""

from __future__ import annotations

from datetime import date

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow import SKIP, Flow, Invalid, Option, Prompt, Step, pressed_or_typed
from handlers.flow_state import FlowState
from handlers.formatting import cn_date
from handlers.texts import Texts
from storage import milestones
from storage.audience import list_townships
from storage.milestone_models import MilestoneDone, MilestoneKind, PlanMilestone
from storage.models import Role, User

NOTE_MAX = 200
UPCOMING = 6  # upcoming milestones shown in the overview
# Milestone buttons per message; more are reached with 下一页/上一页, so every listed milestone has its button.
MAX_BUTTONS = 8
SHORT_TITLE = 14  # characters of a title on a button


def who_county(texts: Texts, milestone: PlanMilestone) -> str:
    roles = [word for word in milestone.responsible if word in milestones.COUNTY_WORDS]
    return texts("ms_who_county", roles="、".join(roles))


def short_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _short(title: str) -> str:
    return title if len(title) <= SHORT_TITLE else title[: SHORT_TITLE - 1] + "…"


async def _scope(turn: Turn, milestone_id: int) -> tuple[PlanMilestone, int | None, str] | list[Reply]:
    """The milestone, whose mark this official makes (a township id, or None for the county) and how it is
    named; or the refusal to show."""
    milestone = await milestones.get_milestone(turn.session, milestone_id)
    if milestone is None:
        return [turn.menu_reply(turn.texts("ms_done_not_found"))]
    found = mark_scope(turn.texts, turn.user, milestone)
    if isinstance(found, str):
        return [turn.menu_reply(found)]
    return milestone, *found


def mark_scope(texts: Texts, user: User, milestone: PlanMilestone) -> tuple[int | None, str] | str:
    """Whose mark `user` makes on `milestone` (a township id, or None for the county office) and how it is named;
    or why they may not (the chat's 标记已完成 and the web console's grid)."""
    if milestone.kind == MilestoneKind.PHASE:
        return texts("ms_done_phase", title=milestone.title)
    if user.role == Role.TOWNSHIP:
        if user.area_id is None or user.area is None:
            return texts("ms_done_no_area")
        if not milestones.for_townships(milestone):
            return texts("ms_done_not_township_item", title=milestone.title)
        return user.area_id, user.area.name
    if user.role != Role.COUNTY or not milestones.for_county(milestone):
        return texts("ms_done_not_county_item", title=milestone.title)
    return None, who_county(texts, milestone)


async def mark(turn: Turn) -> list[Reply]:
    """The "标记已完成" button of a reminder or the overview (argument: milestone id)."""
    if turn.argument_id is None:
        return await show_overview(turn)
    found = await _scope(turn, turn.argument_id)
    if isinstance(found, list):
        return found
    milestone, township_id, who = found
    already = await milestones.done_mark(turn.session, milestone.id, township_id)
    if already is not None:
        return [turn.menu_reply(_already(turn, milestone, already, who))]
    return await turn.runner.start(turn, "milestone_done", MilestoneDoneAnswers(mid=milestone.id))


def _already(turn: Turn, milestone: PlanMilestone, mark_row: MilestoneDone, who: str) -> str:
    return turn.texts("ms_done_already", title=milestone.title, who=who, date=cn_date(mark_row.done_at, turn.clock.tz))


class MilestoneDoneAnswers(FlowState):
    mid: int
    note: str = ""


async def _note_prompt(turn: Turn, answers: MilestoneDoneAnswers) -> Prompt:
    found = await _scope(turn, answers.mid)
    title, who = (found[0].title, found[2]) if isinstance(found, tuple) else ("", "")
    return Prompt(
        turn.texts("ms_done_ask_note", title=title, who=who, max=NOTE_MAX),
        (Option(SKIP, turn.texts("ms_done_skip_note")),),
    )


async def _parse_note(turn: Turn, inbound: Inbound, prompt: Prompt, answers: MilestoneDoneAnswers) -> str:
    if await pressed_or_typed(turn, inbound, prompt) == SKIP:
        return ""
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    note = " ".join(inbound.text.split())
    if not note:
        raise Invalid(turn.texts("text_too_short", min=1))
    if len(note) > NOTE_MAX:
        raise Invalid(turn.texts("text_too_long", max=NOTE_MAX, got=len(note)))
    return note


async def _finish(turn: Turn, answers: MilestoneDoneAnswers) -> list[Reply]:
    found = await _scope(turn, answers.mid)
    if isinstance(found, list):
        return found
    milestone, township_id, who = found
    note = answers.note or None
    if not await milestones.mark_done(turn.session, milestone.id, township_id, turn.user.id, note, turn.clock.now()):
        already = await milestones.done_mark(turn.session, milestone.id, township_id)
        assert already is not None
        return [turn.menu_reply(_already(turn, milestone, already, who))]
    if note:
        return [turn.menu_reply(turn.texts("ms_done_saved_note", title=milestone.title, who=who, note=note))]
    return [turn.menu_reply(turn.texts("ms_done_saved", title=milestone.title, who=who))]


MILESTONE_DONE = Flow(
    "milestone_done",
    "标记计划节点完成",
    (Step("note", _note_prompt, _parse_note, next=None),),
    _finish,
    state=MilestoneDoneAnswers,
)


# --- overview ---------------------------------------------------------------------------------------------------


def _county_status(turn: Turn, milestone: PlanMilestone, marked: set[int | None], townships: int) -> tuple[str, bool]:
    """The status text and whether every responsible party has marked it."""
    if milestone.kind == MilestoneKind.PHASE:
        return "", True
    parts: list[str] = []
    complete = True
    if milestones.for_townships(milestone):
        done = len(marked - {None})
        parts.append(turn.texts("ms_status_townships", done=done, total=townships))
        complete = done >= townships
    if milestones.for_county(milestone):
        county_done = None in marked
        parts.append(turn.texts("ms_status_county_done" if county_done else "ms_status_county_open"))
        complete = complete and county_done
    return "；".join(parts), complete


def _township_status(turn: Turn, milestone: PlanMilestone, done: bool, today: date) -> str:
    if done:
        return turn.texts("ms_status_done")
    left = (milestone.due_on - today).days
    if left < 0:
        return turn.texts("ms_status_overdue", days=-left)
    return turn.texts("ms_status_today") if left == 0 else turn.texts("ms_status_left", days=left)


def _line(turn: Turn, milestone: PlanMilestone, status: str, complete: bool) -> str:
    if milestone.kind == MilestoneKind.PHASE:
        return turn.texts("ms_overview_phase_line", date=short_date(milestone.due_on), title=milestone.title)
    return turn.texts(
        "ms_overview_line",
        mark="✅ " if complete else "",
        date=short_date(milestone.due_on),
        title=milestone.title,
        status=status,
    )


def _sections(turn: Turn, overdue: list[str], upcoming: list[str], later: int, complete: int) -> str:
    nothing = turn.texts("ms_overview_nothing")
    lines = [
        turn.texts("ms_overview_overdue_head"),
        *(overdue or [nothing]),
        turn.texts("ms_overview_upcoming_head"),
        *(upcoming or [nothing]),
    ]
    if later or complete:
        lines.append(turn.texts("ms_overview_rest", later=later, complete=complete))
    return "\n".join(lines)


def _page(turn: Turn, choices: list[Choice], page: int) -> tuple[tuple[Choice, ...], str]:
    """One page of milestone buttons with 上一页/下一页 where there are more, and the line saying which page."""
    pages = max(1, -(-len(choices) // MAX_BUTTONS))
    page = min(max(page, 1), pages)  # a stale page number (fewer milestones to do now) shows the last one
    shown = choices[(page - 1) * MAX_BUTTONS : page * MAX_BUTTONS]
    if page > 1:
        shown.append(Choice(buttons.menu_data("milestones", page - 1), turn.texts("ms_page_previous")))
    if page < pages:
        shown.append(Choice(buttons.menu_data("milestones", page + 1), turn.texts("ms_page_next")))
    note = turn.texts("ms_page", page=page, pages=pages, n=len(choices)) if pages > 1 else ""
    return tuple(shown), note


async def overview(turn: Turn) -> list[Reply]:
    """The "计划节点" action; its argument, from 上一页/下一页, is the page of buttons to show."""
    return await show_overview(turn, turn.argument_id or 1)


async def show_overview(turn: Turn, page: int = 1) -> list[Reply]:
    """ "计划节点": overdue and upcoming milestones of this year, with done counts (county) or own status."""
    today = turn.clock.now().date()
    items = await milestones.milestones_for_year(turn.session, today.year)
    if turn.user.role == Role.TOWNSHIP:
        items = [m for m in items if milestones.for_townships(m)]
    if not items:
        return [turn.menu_reply(turn.texts("ms_none_loaded", year=today.year))]
    marks = await milestones.done_marks(turn.session, [m.id for m in items])
    if turn.user.role == Role.TOWNSHIP:
        return _township_overview(turn, items, marks, today, page)
    townships = len(await list_townships(turn.session))
    status = {m.id: _county_status(turn, m, {d.township_id for d in marks[m.id]}, townships) for m in items}
    overdue = [m for m in items if m.due_on < today and not status[m.id][1]]
    coming = [m for m in items if m.due_on >= today]
    upcoming = coming[:UPCOMING]
    complete = sum(1 for m in items if m.due_on < today and status[m.id][1] and m.kind != MilestoneKind.PHASE)
    text = turn.texts(
        "ms_overview_county",
        year=today.year,
        today=cn_date(today),
        lines=_sections(
            turn,
            [_line(turn, m, *status[m.id]) for m in overdue],
            [_line(turn, m, *status[m.id]) for m in upcoming],
            len(coming) - len(upcoming),
            complete,
        ),
    )
    viewable = [m for m in [*overdue, *upcoming] if m.kind != MilestoneKind.PHASE]
    if viewable:
        text += turn.texts("ms_overview_hint_county")
    choices, page_note = _page(
        turn,
        [
            Choice(
                buttons.menu_data("ms_view", m.id),
                turn.texts("ms_button_view", date=short_date(m.due_on), title=_short(m.title)),
            )
            for m in viewable
        ],
        page,
    )
    text += page_note
    return [Reply(text, choices) if choices else turn.menu_reply(text)]


def _township_overview(
    turn: Turn, items: list[PlanMilestone], marks: dict[int, list[MilestoneDone]], today: date, page: int
) -> list[Reply]:
    done = {m.id for m in items if any(d.township_id == turn.user.area_id for d in marks[m.id])}
    overdue = [m for m in items if m.due_on < today and m.id not in done and m.kind != MilestoneKind.PHASE]
    coming = [m for m in items if m.due_on >= today]
    upcoming = coming[:UPCOMING]
    complete = sum(1 for m in items if m.due_on < today and m.id in done)
    lines = _sections(
        turn,
        [_line(turn, m, _township_status(turn, m, False, today), False) for m in overdue],
        [_line(turn, m, _township_status(turn, m, m.id in done, today), m.id in done) for m in upcoming],
        len(coming) - len(upcoming),
        complete,
    )
    markable = [m for m in [*overdue, *upcoming] if m.id not in done and m.kind != MilestoneKind.PHASE]
    text = turn.texts(
        "ms_overview_township",
        year=today.year,
        township=turn.user.area.name if turn.user.area else "",
        today=cn_date(today),
        lines=lines,
    )
    if markable:
        text += turn.texts("ms_overview_hint_township")
    choices, page_note = _page(
        turn,
        [
            Choice(buttons.menu_data("ms_done", m.id), turn.texts("ms_button_mark", title=_short(m.title)))
            for m in markable
        ],
        page,
    )
    text += page_note
    return [Reply(text, choices) if choices else turn.menu_reply(text)]


async def view(turn: Turn) -> list[Reply]:
    """One milestone for the county office: which townships have done it (with date and note), which not."""
    if turn.user.role != Role.COUNTY:
        return [turn.menu_reply(turn.texts("ms_view_only_county"))]
    milestone_id = turn.argument_id
    milestone = await milestones.get_milestone(turn.session, milestone_id) if milestone_id is not None else None
    if milestone is None:
        return await show_overview(turn)
    marks = (await milestones.done_marks(turn.session, [milestone.id]))[milestone.id]
    by_township = {m.township_id: m for m in marks}
    lines = [
        turn.texts(
            "ms_view",
            date=cn_date(milestone.due_on),
            title=milestone.title,
            responsible="、".join(milestone.responsible),
            text=milestone.text,
        ),
        "",
    ]
    if milestones.for_townships(milestone) and milestone.kind != MilestoneKind.PHASE:
        townships = await list_townships(turn.session)
        missing = [t.name for t in townships if t.id not in by_township]
        done = [(t.name, by_township[t.id]) for t in townships if t.id in by_township]
        lines.append(turn.texts("ms_view_townships", done=len(done), total=len(townships)))
        if missing:
            lines.append(turn.texts("ms_view_missing", n=len(missing), names="、".join(missing)))
        if done:
            entries = [
                turn.texts(
                    "ms_view_done_entry_note" if d.note else "ms_view_done_entry",
                    name=name,
                    date=short_date(d.done_at.astimezone(turn.clock.tz)),
                    note=d.note or "",
                )
                for name, d in done
            ]
            lines.append(turn.texts("ms_view_done", entries="；".join(entries)))
    choices: tuple[Choice, ...] = ()
    if milestones.for_county(milestone) and milestone.kind != MilestoneKind.PHASE:
        county_done = None in by_township
        lines.append(
            turn.texts(
                "ms_view_county",
                who=who_county(turn.texts, milestone),
                status=turn.texts("ms_status_done" if county_done else "ms_status_open"),
            )
        )
        if not county_done:
            choices = (Choice(buttons.menu_data("ms_done", milestone.id), turn.texts("ms_button_mark_county")),)
    text = "\n".join(lines)[:3800]  # notes are short, but a county of many townships must still fit one message
    return [Reply(text, choices) if choices else turn.menu_reply(text)]
