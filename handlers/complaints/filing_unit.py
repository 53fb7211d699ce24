"""Filing a complaint, the unit step: which business it is about (a registered unit or a name as typed), and
whether an open complaint of the same category is already about it."""

from __future__ import annotations

from typing import Any

from handlers.complaints.filing_answers import FilingAnswers, Similar
from handlers.complaints.render import status_label
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Inbound, Kind
from handlers.flow import SKIP, Invalid, Option, Prompt, parse_option, pressed_or_typed
from storage import complaints
from storage.areas import get_area
from storage.complaint_models import Complaint
from storage.units import search_units

UNIT_MIN, UNIT_MAX = 2, 50
SKIP_WORDS = ("跳过", "不清楚", "不知道")
DUPLICATE_STOP = "stop"


async def unit_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_unit"), (Option(SKIP, turn.texts("complaint_button_unit_skip")),))


async def _duplicate(turn: Turn, answers: FilingAnswers, unit_id: int | None, unit_name: str | None) -> Similar | None:
    """Whether an open complaint of this category is about the same unit (only the resident's own is named)."""
    found = await complaints.open_duplicate(
        turn.session, answers.category, unit_id=unit_id, village_id=answers.village, unit_name=unit_name
    )
    if found is None:
        return None
    return Similar(own=True, id=found.id) if found.complainant_id == turn.user.id else Similar(own=False)


async def parse_unit(turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers) -> dict[str, Any]:
    """The unit's name as typed (None: skipped), the registered units it may mean, and a similar complaint."""
    skipped: dict[str, Any] = {"unit_query": None, "unit_matches": [], "dup": None}
    if await pressed_or_typed(turn, inbound, prompt) == SKIP:  # only the skip button is valid here
        return skipped
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    name = " ".join(inbound.text.split())
    if name in SKIP_WORDS:
        return skipped
    if not UNIT_MIN <= len(name) <= UNIT_MAX:
        raise Invalid(turn.texts("complaint_unit_name_length", min=UNIT_MIN, max=UNIT_MAX))
    area_id = answers.village if answers.village is not None else answers.township
    assert area_id is not None
    found = await search_units(turn.session, name, await get_area(turn.session, area_id), limit=8)
    category = CONFIG.category(answers.category)
    fitting = [(unit, score) for unit, score in found if category is None or category.applies_to(unit.industry)]
    matches = [(unit.id, unit.name) for unit, _ in (fitting or found)[:5]]
    dup = None if matches else await _duplicate(turn, answers, None, name)
    return {"unit_query": name, "unit_matches": matches, "dup": dup}


def store_unit(answers: FilingAnswers, value: dict[str, Any]) -> None:
    answers.unit_query, answers.unit_matches, answers.dup = value["unit_query"], value["unit_matches"], value["dup"]
    answers.unit_id, answers.unit_name = None, value["unit_query"]


def after_unit(answers: FilingAnswers) -> str:
    if answers.unit_matches:
        return "unit_pick"
    return "duplicate" if answers.dup else "description"


async def unit_pick_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = [Option(f"u{unit_id}", name) for unit_id, name in answers.unit_matches]
    options.append(Option("typed", turn.texts("complaint_button_unit_typed", name=answers.unit_query)))
    return Prompt(turn.texts("complaint_ask_unit_pick"), tuple(options))


async def parse_unit_pick(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers
) -> tuple[int | None, str | None, Similar | None]:
    """The unit meant (None: the name as typed, not a registered one), its name, and a similar complaint."""
    choice = await parse_option(turn, inbound, prompt)
    if choice == "typed":
        return None, answers.unit_query, await _duplicate(turn, answers, None, answers.unit_query)
    unit_id = int(choice[1:])
    name = next(name for known_id, name in answers.unit_matches if known_id == unit_id)
    return unit_id, name, await _duplicate(turn, answers, unit_id, None)


def store_pick(answers: FilingAnswers, value: tuple[int | None, str | None, Similar | None]) -> None:
    answers.unit_id, answers.unit_name, answers.dup = value


def after_pick(answers: FilingAnswers) -> str:
    return "duplicate" if answers.dup else "description"


async def own_duplicate(turn: Turn, answers: FilingAnswers) -> Complaint | None:
    dup = answers.dup
    found = await complaints.get_complaint(turn.session, dup.id) if dup is not None and dup.id else None
    return found if found is not None and found.complainant_id == turn.user.id else None


async def duplicate_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    own = await own_duplicate(turn, answers)
    if own is not None:
        text = turn.texts("complaint_duplicate_own", number=own.number, status=status_label(turn.texts, own.status))
    else:
        text = turn.texts("complaint_duplicate_offer")
    options = (
        Option(DUPLICATE_STOP, turn.texts("complaint_button_not_again")),
        Option("new", turn.texts("complaint_button_file_new")),
    )
    return Prompt(text, options)
