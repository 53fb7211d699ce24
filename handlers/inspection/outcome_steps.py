"""After the checklist: photos, location, the proposed result, class, deadline and the summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from handlers.context import Turn
from handlers.dates import DateProblem, Problem, parse_date
from handlers.events import Inbound, Kind
from handlers.flow import SKIP, Invalid, Option, Prompt, Step, parse_option, pressed_or_typed, text_parser
from handlers.formatting import cn_date, cn_month_day, cn_weekday
from handlers.inspection.answers import InspectionAnswers
from handlers.inspection.checklist_steps import FAIL, applicable, checklist
from handlers.inspection.class_rules import allowed_classes
from storage.inspection_models import UnitClass

MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
MAX_DEADLINE_DAYS = 365
CLASS_REASON_MAX = 200
BACK_TO_RESULT, CHOOSE_AGAIN = "result", "again"
EXAMPLE_DEADLINE_DAYS = 14  # the example date in the deadline prompt: two weeks from today, never a past one
CLASS_KEYS: dict[str, str] = {
    UnitClass.UPGRADE: "class_upgrade",
    UnitClass.RECTIFY: "class_rectify",
    UnitClass.SHUTDOWN: "class_shutdown",
}


def failed_items(turn: Turn, answers: InspectionAnswers) -> list[tuple[str, str, bool]]:
    """(text, note, veto) of every applicable item answered 不符合."""
    return [
        (item.text, answers.notes.get(item.id, ""), item.veto)
        for item in applicable(turn, answers)
        if answers.answers.get(item.id) == FAIL
    ]


def needs_deadline(answers: InspectionAnswers) -> bool:
    return answers.compliant is False and answers.unit_class != UnitClass.SHUTDOWN


# How the result and the class must agree. The plan only names the three classes (四、（二）5); what they mean here:
# 整合提升类 units meet the standard or are to be brought up by integration, 整改规范类 units have problems to fix
# by a deadline, 关停取缔类 units are to close (无证无照经营, or what cannot be put right). So:
# - 规范达标 and 整改规范类 contradict each other outright (nothing to fix: no deadline, no reminder), and the class
#   is not offered; a cadre who sees something to fix changes the result (改判, with a reason) instead.
# - 规范达标 and 关停取缔类 can both be true (a compliant shop in a shed due for demolition, an operator who is
#   giving up), but rarely: the cadre gives a reason and the township's review screen flags it.
# - 不达标 goes with any class; 整合提升类 still gets a deadline.
def needs_class_reason(answers: InspectionAnswers) -> bool:
    return bool(answers.compliant) and answers.unit_class == UnitClass.SHUTDOWN


def unsettled_class(answers: InspectionAnswers) -> str | None:
    """The step that must be answered again because the result changed under the class (or a report returned
    before this rule existed is corrected): None when the class fits the result."""
    if answers.unit_class not in allowed_classes(bool(answers.compliant)):
        return "class"
    if needs_class_reason(answers) and not answers.class_reason:
        return "class_reason"
    return None


def _back_or(answers: InspectionAnswers, default: str) -> str:
    return "summary" if answers.return_to else default


# --- photos and location ---------------------------------------------------------------------------------


async def _photos_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    count = len(answers.photos)
    text = turn.texts("insp_photo_saved", n=count) + "\n" if answers.photos_acked else ""
    text += turn.texts("insp_photos", max=MAX_PHOTOS)
    label = turn.texts("insp_photos_done", n=count)
    return Prompt(text, (Option("done", label),))


async def _parse_photo(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> dict[str, Any] | str:
    """A photo, or "done"."""
    if inbound.kind is Kind.PHOTO and inbound.photo is not None:
        if inbound.photo.size and inbound.photo.size > MAX_PHOTO_BYTES:
            raise Invalid(turn.texts("insp_photo_too_big"))
        if len(answers.photos) >= MAX_PHOTOS:
            raise Invalid(turn.texts("insp_photo_limit", max=MAX_PHOTOS))
        return {
            "file_id": inbound.photo.file_id,
            "unique_id": inbound.photo.file_unique_id,
            "size": inbound.photo.size,
            "channel": inbound.channel,
        }
    if inbound.kind in (Kind.PRESS, Kind.TEXT):  # 完成 pressed, or typed
        try:
            return await parse_option(turn, inbound, prompt)
        except Invalid:
            raise Invalid(turn.texts("insp_photo_expected")) from None
    raise Invalid(turn.texts("insp_photo_expected"))


def _store_photo(answers: InspectionAnswers, value: dict[str, Any] | str) -> None:
    # The acknowledgement is part of the next prompt, which is written after the photo is saved with the step.
    if isinstance(value, dict):
        answers.photos = [*answers.photos, value]
    answers.photos_acked = isinstance(value, dict)


def _after_photos(answers: InspectionAnswers) -> str:
    if answers.photos_acked:
        return "photo"
    return _back_or(answers, "location")


async def _location_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(turn.texts("insp_location"), (Option(SKIP, turn.texts("button_skip")),), request="location")


async def _parse_location(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> list[float] | None:
    if inbound.kind is Kind.LOCATION and inbound.location is not None:
        lat, lon = inbound.location
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Invalid(turn.texts("insp_location_invalid"))
        return [lat, lon]
    if inbound.kind in (Kind.PRESS, Kind.TEXT):
        try:
            await parse_option(turn, inbound, prompt)
        except Invalid:
            raise Invalid(turn.texts("insp_location_expected")) from None
        return None
    raise Invalid(turn.texts("insp_location_expected"))


# --- result, override, class ------------------------------------------------------------------------------


async def _result_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    failed = failed_items(turn, answers)
    if not failed:
        text = turn.texts("insp_result_ok", unit=answers.unit_name)
    else:
        lines = "\n".join(
            f"· {text}{'（一票否决）' if veto else ''}{f'：{note}' if note else ''}" for text, note, veto in failed
        )
        text = turn.texts("insp_result_fail", unit=answers.unit_name, n=len(failed), items=lines)
    options = [Option("agree", turn.texts("insp_agree"))]
    if any(veto for _, _, veto in failed):
        text += "\n" + turn.texts("insp_veto_locked")
    else:
        options.append(Option("override", turn.texts("insp_override")))
    return Prompt(text, tuple(options), columns=2)


async def _parse_result(turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers) -> tuple[str, bool]:
    """Agree or override, and what the checklist proposes."""
    return await parse_option(turn, inbound, prompt), not failed_items(turn, answers)


def _store_result(answers: InspectionAnswers, value: tuple[str, bool]) -> None:
    answers.result, answers.proposed = value
    if answers.result == "agree":
        answers.compliant, answers.override_reason = answers.proposed, None
        _judged(answers)


def _judged(answers: InspectionAnswers) -> None:
    """The result is settled; while correcting, the summary is where the report goes back to from now on, and
    a reason for a class that no longer needs one is dropped."""
    if answers.return_to:
        answers.return_to = "summary"
        if not needs_class_reason(answers):
            answers.class_reason = None


def _after_result(answers: InspectionAnswers) -> str:
    return "override" if answers.result == "override" else _after_judgement(answers)


def _after_judgement(answers: InspectionAnswers) -> str:
    if not answers.return_to:
        return "class"
    unsettled = unsettled_class(answers)
    if unsettled:
        return unsettled
    if needs_deadline(answers) and not answers.rectify_by:
        return "deadline"
    return "summary"


async def _override_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    to = turn.texts("insp_verdict_fail" if answers.proposed else "insp_verdict_ok")
    return Prompt(turn.texts("insp_override_reason", to=to))


def _store_override(answers: InspectionAnswers, value: str) -> None:
    answers.compliant, answers.override_reason = not answers.proposed, value
    _judged(answers)


async def _class_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    compliant = bool(answers.compliant)
    suggested = UnitClass.UPGRADE if compliant else UnitClass.RECTIFY
    options = tuple(
        Option(value, turn.texts(key) + (turn.texts("insp_suggested") if value == suggested else ""))
        for value, key in CLASS_KEYS.items()
        if value in allowed_classes(compliant)
    )
    text = turn.texts("insp_class")
    if compliant:
        text += "\n" + turn.texts("insp_class_compliant")
        options += (Option(BACK_TO_RESULT, turn.texts("insp_edit_result")),)
    return Prompt(text, options, columns=1)


def _store_class(answers: InspectionAnswers, value: str) -> None:
    answers.class_choice = value
    if value == BACK_TO_RESULT:
        return
    answers.unit_class = value
    if not needs_class_reason(answers):
        answers.class_reason = None


def _after_class(answers: InspectionAnswers) -> str:
    if answers.class_choice == BACK_TO_RESULT:
        return "result"
    if needs_class_reason(answers):
        return "class_reason"  # asked again on every choice: the reason was for the choice made then
    if needs_deadline(answers) and not (answers.return_to and answers.rectify_by):
        return "deadline"
    return "summary"


async def _class_reason_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(
        turn.texts("insp_class_reason", max=CLASS_REASON_MAX),
        (Option(CHOOSE_AGAIN, turn.texts("insp_class_choose_again")),),
    )


async def _parse_class_reason(turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers) -> str | None:
    """The reason, or None to choose the class again (the button, or its label typed)."""
    if await pressed_or_typed(turn, inbound, prompt) == CHOOSE_AGAIN:
        return None
    return await text_parser(4, CLASS_REASON_MAX)(turn, inbound, prompt, answers)


def _after_class_reason(answers: InspectionAnswers) -> str:
    return "summary" if answers.class_reason else "class"  # 关停取缔类 never has a deadline


# --- deadline ---------------------------------------------------------------------------------------------


def _examples(turn: Turn) -> dict[str, str]:
    example = turn.clock.now().date() + timedelta(days=EXAMPLE_DEADLINE_DAYS)
    return {"iso": example.isoformat(), "month_day": cn_month_day(example)}


async def _deadline_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(turn.texts("insp_deadline", **_examples(turn)))


async def _parse_deadline(turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers) -> date:
    text = await text_parser(1, 30)(turn, inbound, prompt, answers)
    today = turn.clock.now().date()
    try:
        day = parse_date(text, today)
    except DateProblem as problem:
        raise Invalid(_date_problem(turn, problem, text, today)) from None
    if day is None:
        raise Invalid(turn.texts("insp_deadline_unknown", **_examples(turn)))
    if day <= today:
        raise Invalid(turn.texts("insp_deadline_past", date=cn_date(day)))
    if day > today + timedelta(days=MAX_DEADLINE_DAYS):
        raise Invalid(turn.texts("insp_deadline_far", date=cn_date(day)))
    return day


def _date_problem(turn: Turn, problem: DateProblem, typed: str, today: date) -> str:
    """Why a typed date cannot be used. Dates that do not exist cannot be written as one, so what was typed is
    shown instead."""
    if problem.passed is not None:
        # Asked rather than guessed: the cadre may mean next year's, and says so by typing the year.
        passed = problem.passed
        text = turn.texts("insp_deadline_passed", date=cn_date(passed), today=cn_date(today))
        try:
            following = passed.replace(year=passed.year + 1)
        except ValueError:  # 2月29日: next year has none, so there is no next year's to suggest
            return text
        return text + turn.texts("insp_deadline_passed_next_year", date=cn_date(following), iso=following.isoformat())
    if problem.problem is Problem.TOO_FAR:
        return turn.texts("insp_deadline_far", date=typed)
    if problem.problem is Problem.TOO_EARLY:
        return turn.texts("insp_deadline_past", date=typed)
    if problem.problem is Problem.NO_MONTH:
        return turn.texts("insp_deadline_no_month", month=problem.month)
    if problem.year is not None:  # only 29 February depends on the year
        return turn.texts("insp_deadline_no_leap_day", year=problem.year)
    return turn.texts("insp_deadline_no_day", month=problem.month, day=problem.day)


def _store_deadline(answers: InspectionAnswers, value: date) -> None:
    answers.deadline_typed = value


async def _deadline_ok_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    day = answers.deadline_typed
    assert day is not None
    days = (day - turn.clock.now().date()).days
    text = turn.texts("insp_deadline_confirm", date=cn_date(day), weekday=cn_weekday(day), days=days)
    options = (Option("yes", turn.texts("button_confirm")), Option("again", turn.texts("insp_retype")))
    return Prompt(text, options, columns=2)


def _store_deadline_ok(answers: InspectionAnswers, value: str) -> None:
    answers.deadline_ok = value
    if value == "yes":
        answers.rectify_by = answers.deadline_typed


OUTCOME_STEPS = (
    Step("photo", _photos_prompt, _parse_photo, store=_store_photo, next=_after_photos),
    Step("location", _location_prompt, _parse_location, next=lambda answers: _back_or(answers, "result")),
    Step("result", _result_prompt, _parse_result, store=_store_result, next=_after_result),
    Step("override", _override_prompt, text_parser(4, 200), store=_store_override, next=_after_judgement),
    Step("class", _class_prompt, store=_store_class, next=_after_class),
    Step("class_reason", _class_reason_prompt, _parse_class_reason, next=_after_class_reason),
    Step("deadline", _deadline_prompt, _parse_deadline, store=_store_deadline, next="deadline_ok"),
    Step(
        "deadline_ok",
        _deadline_ok_prompt,
        store=_store_deadline_ok,
        next=lambda answers: "summary" if answers.deadline_ok == "yes" else "deadline",
    ),
)

__all__ = [
    "CLASS_KEYS",
    "OUTCOME_STEPS",
    "checklist",
    "failed_items",
    "needs_class_reason",
    "needs_deadline",
    "unsettled_class",
]
