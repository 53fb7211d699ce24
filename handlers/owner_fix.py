"""已整改: the owner reports failed items put right, each with at least one photo and an optional note. The unit's
cadres and the township's officials receive a re-inspection task naming the unit and the items, with the photos.
Nothing the owner reports changes official numbers: only the cadre's re-inspection does.

A small flow of its own (item → photos → note, back to item), its answers an `OwnerFixAnswers`: the unit and the
report, `fixed` (an item's place among the report's failed items → its photos and note), `current` and `photos`
(the item being reported)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply, photo_replies
from handlers.flow import SKIP, Flow, Invalid, Option, Prompt, Step, optional_text, parse_option
from handlers.flow_state import FlowState
from handlers.owner_notice import failed_items
from handlers.owners import may_see
from storage import owners, units, users
from storage.inspection_models import Answer, Inspection, UnitStatus
from storage.inspections import get_inspection
from storage.models import Role

log = logging.getLogger(__name__)

MAX_PHOTOS_PER_ITEM = 5
NOTE_MAX = 200
DONE = "done"
PHOTO = "photo"  # the photo step's answer when a photo came (another may follow)


class FixedItem(BaseModel):
    photos: list[dict[str, Any]] = Field(default_factory=list)
    note: str = ""


class OwnerFixAnswers(FlowState):
    unit_id: int
    unit_name: str = ""
    report_id: int
    # The report's failed items reported fixed so far, by their place among them ("0", "1"...).
    fixed: dict[str, FixedItem] = Field(default_factory=dict)
    item: str = ""  # the item step's last answer: "i<place>", or DONE
    current: str = ""  # the place of the item being reported
    photos: list[dict[str, Any]] = Field(default_factory=list)  # its photos so far
    photo: str = ""  # the photo step's last answer: PHOTO (another one) or DONE
    note: str = ""


def _open_items(turn: Turn, report: Inspection | None) -> list[tuple[str, str]]:
    """(item id, requirement) of the report's failed items."""
    if report is None:
        return []
    ids = [item_id for item_id, value in report.answers.items() if value == Answer.FAIL]
    texts = failed_items(report, turn.knowledge)
    return list(zip(ids, (item.requirement for item in texts), strict=True))


async def start(turn: Turn) -> list[Reply]:
    """报告已整改 on the owner's unit card (m.fix_report.<unit id>)."""
    unit_id = turn.argument_id
    unit = await units.get_unit(turn.session, unit_id) if unit_id else None
    if turn.user.role != Role.OPERATOR or not await may_see(turn, unit):
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    assert unit is not None
    report = await owners.latest_report(turn.session, unit.id)
    if (
        report is None
        or unit.status != UnitStatus.RECTIFYING
        or not any(value == Answer.FAIL for value in report.answers.values())
    ):
        return [turn.menu_reply(turn.texts("owner_fix_nothing", unit=unit.name))]
    answers = OwnerFixAnswers(unit_id=unit.id, unit_name=unit.name, report_id=report.id)
    return await turn.runner.start(turn, OWNER_FIX.name, answers)


async def _item_prompt(turn: Turn, answers: OwnerFixAnswers) -> Prompt:
    report = await get_inspection(turn.session, answers.report_id)
    options = [
        Option(f"i{index}", f"{'✅ ' if str(index) in answers.fixed else ''}{text[:30]}")
        for index, (_, text) in enumerate(_open_items(turn, report))
    ]
    if answers.fixed:
        options.append(Option(DONE, turn.texts("owner_fix_submit", n=len(answers.fixed))))
    return Prompt(turn.texts("owner_fix_pick", unit=answers.unit_name), tuple(options))


def _store_item(answers: OwnerFixAnswers, value: str) -> None:
    answers.item = value
    if value == DONE:
        return
    answers.current = value[1:]  # the item's place among the report's failed items
    # Chosen again: reported afresh.
    answers.fixed = {place: entry for place, entry in answers.fixed.items() if place != answers.current}
    answers.photos = []


async def _photo_prompt(turn: Turn, answers: OwnerFixAnswers) -> Prompt:
    count = len(answers.photos)
    text = turn.texts("owner_fix_photo", n=count, max=MAX_PHOTOS_PER_ITEM)
    return Prompt(text, (Option(DONE, turn.texts("insp_photos_done", n=count)),) if count else ())


async def _parse_photo(turn: Turn, inbound: Inbound, prompt: Prompt, answers: OwnerFixAnswers) -> dict[str, Any] | str:
    """A photo, or DONE (once the item has one)."""
    if inbound.kind is Kind.PHOTO and inbound.photo is not None:
        if len(answers.photos) >= MAX_PHOTOS_PER_ITEM:
            raise Invalid(turn.texts("owner_fix_photo_limit", max=MAX_PHOTOS_PER_ITEM))
        return {"file_id": inbound.photo.file_id, "unique_id": inbound.photo.file_unique_id, "channel": inbound.channel}
    if answers.photos and inbound.kind in (Kind.PRESS, Kind.TEXT):
        return await parse_option(turn, inbound, prompt)
    # 已整改 without a photo is not taken: the cadre must see what changed.
    raise Invalid(turn.texts("owner_fix_photo_needed"))


def _store_photo(answers: OwnerFixAnswers, value: dict[str, Any] | str) -> None:
    if isinstance(value, dict):
        answers.photos = [*answers.photos, value]
    answers.photo = PHOTO if isinstance(value, dict) else value


async def _note_prompt(turn: Turn, answers: OwnerFixAnswers) -> Prompt:
    return Prompt(turn.texts("owner_fix_note", max=NOTE_MAX), (Option(SKIP, turn.texts("button_skip")),))


def _store_note(answers: OwnerFixAnswers, value: str) -> None:
    answers.note = value
    answers.fixed = {**answers.fixed, answers.current: FixedItem(photos=answers.photos, note=value)}
    answers.photos = []


def _after_item(answers: OwnerFixAnswers) -> str | None:
    return None if answers.item == DONE else "photo"


def _after_photo(answers: OwnerFixAnswers) -> str:
    return "photo" if answers.photo == PHOTO else "note"


async def _finish(turn: Turn, answers: OwnerFixAnswers) -> list[Reply]:
    unit = await units.get_unit(turn.session, answers.unit_id)
    report = await get_inspection(turn.session, answers.report_id)
    if unit is None or report is None or not await owners.owns(turn.session, turn.user.id, unit.id):
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    open_items = _open_items(turn, report)
    fixed = {
        open_items[int(place)][0]: entry
        for place, entry in answers.fixed.items()
        if place.isdigit() and int(place) < len(open_items)
    }
    await owners.record_fix(
        turn.session,
        unit.id,
        report.id,
        turn.user.id,
        {item_id: entry.model_dump(mode="json") for item_id, entry in fixed.items()},
        turn.clock.now(),
    )
    requirement = dict(open_items)
    lines = [
        turn.texts(
            "owner_fix_item",
            n=n,
            requirement=requirement.get(item_id, item_id),
            note=turn.texts("owner_notice_note", note=entry.note) if entry.note else "",
        )
        for n, (item_id, entry) in enumerate(fixed.items(), start=1)
    ]
    task = turn.texts(
        "owner_fix_task",
        unit=unit.name,
        owner=turn.user.name or turn.texts("no_name"),
        n=len(fixed),
        items="\n".join(lines),
    )
    photos = [photo["file_id"] for entry in fixed.values() for photo in entry.photos]
    cadres = await users.users_with_role(turn.session, Role.CADRE, unit.village_id)
    officials = await users.users_with_role(turn.session, Role.TOWNSHIP, unit.township_id)
    start_button = Choice(buttons.menu_data("inspect", unit.id), turn.texts("reinspect_start"))
    for person in [*cadres, *officials]:
        choices = (start_button,) if person.role == Role.CADRE else ()
        turn.notices.append(Reply(task, choices, chat_id=person.channel_user_id))
        turn.notices.extend(
            photo_replies(
                turn.texts("owner_fix_photos_caption", unit=unit.name), photos, chat_id=person.channel_user_id
            )
        )
    log.info("owner %s reported %d items fixed on unit %s", turn.user.id, len(fixed), unit.id)
    return [turn.menu_reply(turn.texts("owner_fix_done", unit=unit.name, n=len(fixed), cadres=len(cadres)))]


OWNER_FIX = Flow(
    "owner_fix",
    "报告已整改",
    (
        Step("item", _item_prompt, next=_after_item, store=_store_item),
        Step("photo", _photo_prompt, _parse_photo, next=_after_photo, store=_store_photo),
        Step("note", _note_prompt, optional_text(0, NOTE_MAX), next="item", store=_store_note),
    ),
    _finish,
    precious=True,
    state=OwnerFixAnswers,
)
