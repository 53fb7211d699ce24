"""待关停单位: the units a report classified 关停取缔类 wait here until someone saw them closed.

A township official (own township) records 已关停 / 已取缔 with the date and an optional note; a cadre (own village)
does so on a follow-up visit, with a photo. Only then does the unit leave the compliance rate's base
(storage/closures.py, storage/digest.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field, model_validator

from handlers import buttons
from handlers.context import Turn
from handlers.dates import DateProblem, Problem, parse_date
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, parse_option
from handlers.flow_state import FlowState
from handlers.formatting import cn_date, cn_month_day
from handlers.inspection.unit_steps import industry_name
from storage import closures, units, users
from storage.areas import area_path, get_area
from storage.inspection_models import ClosureKind, ClosureSource, Unit, UnitStatus
from storage.models import AreaLevel, Role

LIST_LIMIT = 20
NOTE_MAX = 200
MAX_PHOTO_BYTES = 20 * 1024 * 1024
OLDEST_DAYS = 366  # a closure date more than a year back is most likely a slip of the year
PAST_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
KIND_KEYS = {ClosureKind.SHUT_DOWN: "closure_kind_shut_down", ClosureKind.BANNED: "closure_kind_banned"}


def _scope_level(turn: Turn) -> str | None:
    """Where this person records closures: a township official's township, a cadre's village."""
    return {Role.TOWNSHIP: AreaLevel.TOWNSHIP, Role.CADRE: AreaLevel.VILLAGE}.get(Role(turn.user.role))


async def _unit_in_scope(turn: Turn, unit_id: int) -> Unit | None:
    """The unit, if it lies in this person's area (otherwise None: the same answer as for a unit never made)."""
    if turn.user.area is None or turn.user.area.level != _scope_level(turn):
        return None
    unit = await units.get_unit(turn.session, unit_id)
    if unit is None:
        return None
    inside = unit.township_id if turn.user.role == Role.TOWNSHIP else unit.village_id
    return unit if inside == turn.user.area_id else None


async def _place(turn: Turn, unit: Unit) -> str:
    return area_path(await get_area(turn.session, unit.village_id))


async def closures_action(turn: Turn) -> list[Reply]:
    """The 待关停 list of the person's area, or (argument: a unit id) the closure record of one unit."""
    area = turn.user.area
    if area is None or area.level != _scope_level(turn):
        return [turn.menu_reply(turn.texts("closures_no_area"))]
    if turn.argument_id is not None:
        return await _open(turn, turn.argument_id)
    waiting = await closures.pending_closures(turn.session, area, LIST_LIMIT)
    if not waiting:
        return [turn.menu_reply(turn.texts("closures_none"))]
    total = await closures.count_pending_closures(turn.session, area)
    head = "closures_head_township" if turn.user.role == Role.TOWNSHIP else "closures_head_cadre"
    text = turn.texts(head, area=area_path(area), n=total)
    if total > len(waiting):
        text += turn.texts("closures_more", shown=len(waiting), more=total - len(waiting))
    choices = [
        Choice(
            buttons.menu_data("closures", unit.id),
            turn.texts("closures_button", unit=unit.name, place=await _place(turn, unit)),
        )
        for unit in waiting
    ]
    return [Reply(text, tuple(choices))]


async def _open(turn: Turn, unit_id: int) -> list[Reply]:
    unit = await _unit_in_scope(turn, unit_id)
    if unit is None:
        return [turn.menu_reply(turn.texts("closures_not_found"))]
    if unit.status != UnitStatus.PENDING_CLOSURE:
        return [turn.menu_reply(_not_pending(turn, unit))]
    return await turn.runner.start(turn, "closure", ClosureAnswers(unit_id=unit.id, visit=turn.user.role == Role.CADRE))


def _not_pending(turn: Turn, unit: Unit) -> str:
    return turn.texts("closures_not_pending", unit=unit.name, status=turn.texts(f"unit_status_{unit.status}"))


class ClosureAnswers(FlowState):
    unit_id: int
    # A cadre's visit is recorded with a photo; a township official writes a note instead.
    visit: bool = False
    kind: ClosureKind | None = None
    closed_on: date | None = None  # stored as "date" before the answers were typed
    note: str = ""
    photo: dict[str, str] = Field(default_factory=dict)  # file_id, unique_id, channel
    confirm: str = ""

    @model_validator(mode="before")
    @classmethod
    def _old_shape(cls, stored: Any) -> Any:
        if isinstance(stored, dict) and "date" in stored and "closed_on" not in stored:
            stored = {**stored, "closed_on": stored["date"]}
        return stored


async def _unit(turn: Turn, answers: ClosureAnswers) -> Unit:
    unit = await units.get_unit(turn.session, answers.unit_id)
    assert unit is not None
    return unit


def _kind_label(turn: Turn, answers: ClosureAnswers) -> str:
    assert answers.kind is not None
    return turn.texts(KIND_KEYS[answers.kind])


async def _kind_prompt(turn: Turn, answers: ClosureAnswers) -> Prompt:
    unit = await _unit(turn, answers)
    text = turn.texts(
        "closure_ask_kind", unit=unit.name, place=await _place(turn, unit), industry=industry_name(turn, unit.industry)
    )
    return Prompt(text, tuple(Option(kind, turn.texts(key)) for kind, key in KIND_KEYS.items()), columns=2)


def _date_examples(turn: Turn) -> dict[str, str]:
    example = turn.clock.now().date() - timedelta(days=3)
    return {"iso": example.isoformat(), "month_day": cn_month_day(example)}


async def _date_prompt(turn: Turn, answers: ClosureAnswers) -> Prompt:
    return Prompt(
        turn.texts("closure_ask_date", kind=_kind_label(turn, answers), **_date_examples(turn)),
        (Option("today", turn.texts("closure_today")),),
    )


def closure_date(turn: Turn, typed: str) -> date:
    """The day a closure happened, from what was typed: no later than today, no more than a year back. A month
    and day without a year that has just passed (12月1日 typed on 12月3日) is that day, not next year's."""
    today = turn.clock.now().date()
    raw = "".join(typed.split())
    if raw in PAST_WORDS:
        return today - timedelta(days=PAST_WORDS[raw])
    try:
        day = parse_date(raw, today)
    except DateProblem as problem:
        if problem.passed is not None:
            day = problem.passed
        elif problem.problem is Problem.TOO_FAR:
            raise Invalid(turn.texts("closure_date_future", date=typed[:20])) from None
        elif problem.problem is Problem.TOO_EARLY:
            raise Invalid(turn.texts("closure_date_old", date=typed[:20], **_date_examples(turn))) from None
        else:
            raise Invalid(turn.texts("closure_date_impossible", typed=typed[:20])) from None
    if day is None:
        raise Invalid(turn.texts("closure_date_unknown", **_date_examples(turn)))
    if day > today:
        raise Invalid(turn.texts("closure_date_future", date=cn_date(day)))
    if (today - day).days > OLDEST_DAYS:
        raise Invalid(turn.texts("closure_date_old", date=cn_date(day), **_date_examples(turn)))
    return day


async def _parse_date(turn: Turn, inbound: Inbound, prompt: Prompt, answers: ClosureAnswers) -> date:
    if inbound.kind is Kind.PRESS or (inbound.kind is Kind.TEXT and inbound.text.strip() == prompt.options[0].label):
        await parse_option(turn, inbound, prompt)
        return turn.clock.now().date()
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    return closure_date(turn, inbound.text[:100])


def _store_date(answers: ClosureAnswers, value: date) -> None:
    answers.closed_on = value


async def _note_prompt(turn: Turn, answers: ClosureAnswers) -> Prompt:
    return Prompt(turn.texts("closure_ask_note", max=NOTE_MAX), (Option("skip", turn.texts("closure_skip_note")),))


async def _parse_note(turn: Turn, inbound: Inbound, prompt: Prompt, answers: ClosureAnswers) -> str:
    if inbound.kind is Kind.PRESS or (inbound.kind is Kind.TEXT and inbound.text.strip() == prompt.options[0].label):
        await parse_option(turn, inbound, prompt)
        return ""
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    note = " ".join(inbound.text.split())
    if not note:
        raise Invalid(turn.texts("text_too_short", min=1))
    if len(note) > NOTE_MAX:
        raise Invalid(turn.texts("text_too_long", max=NOTE_MAX, got=len(note)))
    return note


async def _photo_prompt(turn: Turn, answers: ClosureAnswers) -> Prompt:
    return Prompt(turn.texts("closure_ask_photo"))


async def _parse_photo(turn: Turn, inbound: Inbound, prompt: Prompt, answers: ClosureAnswers) -> dict[str, str]:
    if inbound.kind is not Kind.PHOTO or inbound.photo is None:
        raise Invalid(turn.texts("closure_photo_expected"))
    if inbound.photo.size and inbound.photo.size > MAX_PHOTO_BYTES:
        raise Invalid(turn.texts("closure_photo_too_big"))
    return {"file_id": inbound.photo.file_id, "unique_id": inbound.photo.file_unique_id, "channel": inbound.channel}


async def _confirm_prompt(turn: Turn, answers: ClosureAnswers) -> Prompt:
    unit = await _unit(turn, answers)
    extra = (
        turn.texts("closure_confirm_photo")
        if answers.photo
        else turn.texts("closure_confirm_note", note=answers.note)
        if answers.note
        else ""
    )
    assert answers.closed_on is not None
    text = turn.texts(
        "closure_confirm",
        unit=unit.name,
        place=await _place(turn, unit),
        kind=_kind_label(turn, answers),
        date=cn_date(answers.closed_on),
        extra=extra,
    )
    options = (Option("yes", turn.texts("closure_button_confirm")), Option("again", turn.texts("closure_button_again")))
    return Prompt(text, options, columns=2)


async def _finish(turn: Turn, answers: ClosureAnswers) -> list[Reply]:
    unit = await _unit_in_scope(turn, answers.unit_id)
    if unit is None:
        return [turn.menu_reply(turn.texts("closures_not_found"))]
    photo = answers.photo
    if turn.user.role == Role.CADRE and not photo:  # a visit is recorded with its photo, never without
        return [turn.menu_reply(turn.texts("closure_photo_expected"))]
    assert answers.kind is not None and answers.closed_on is not None
    closed_on = answers.closed_on
    report = closures.ClosureReport(
        unit_id=unit.id,
        kind=answers.kind,
        closed_on=closed_on,
        source=ClosureSource.VISIT if turn.user.role == Role.CADRE else ClosureSource.TOWNSHIP,
        note=answers.note or None,
        photo_file_id=photo.get("file_id"),
        photo_unique_id=photo.get("unique_id"),
        photo_channel=photo.get("channel") or "telegram",
    )
    recorded = await closures.record_closure(turn.session, report, turn.user, turn.clock.now())
    if recorded is None:
        return [turn.menu_reply(_not_pending(turn, unit))]
    kind, day = _kind_label(turn, answers), cn_date(closed_on)
    if turn.user.role == Role.CADRE:
        officials = await users.users_with_role(turn.session, Role.TOWNSHIP, unit.township_id)
        notice = turn.texts(
            "closure_notice_visit",
            cadre=turn.user.name or "",
            place=await _place(turn, unit),
            unit=unit.name,
            kind=kind,
            date=day,
        )
        turn.notices.extend(Reply(notice, chat_id=official.channel_user_id) for official in officials)
    return [turn.menu_reply(turn.texts("closure_saved", unit=unit.name, kind=kind, date=day))]


CLOSURE = Flow(
    "closure",
    "记录关停",
    (
        Step("kind", _kind_prompt),
        Step(
            "date",
            _date_prompt,
            _parse_date,
            store=_store_date,
            next=lambda answers: "photo" if answers.visit else "note",
        ),
        Step("note", _note_prompt, _parse_note, next="confirm"),
        Step("photo", _photo_prompt, _parse_photo, next="confirm"),
        Step("confirm", _confirm_prompt, next=lambda answers: "kind" if answers.confirm == "again" else None),
    ),
    _finish,
    state=ClosureAnswers,
)
