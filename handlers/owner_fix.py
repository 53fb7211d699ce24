"""已整改: the owner reports failed items put right, each with at least one photo and an optional note. The unit's
cadres and the township's officials receive a re-inspection task naming the unit and the items, with the photos.
Nothing the owner reports changes official numbers: only the cadre's re-inspection does.

A small flow of its own (item → photos → note, back to item), its state in three keys of the conversation's data:
`unit_id`, `report_id`, `fixed` (an item's place among the report's failed items → photos and note),
`current` and `photos` (the item being reported)."""

from __future__ import annotations

import logging

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply, photo_replies
from handlers.flow import SKIP, Flow, Invalid, Option, Prompt, Step, optional_text, parse_option
from handlers.owner_notice import failed_items
from handlers.owners import may_see
from storage import owners, units, users
from storage.inspection_models import Answer, UnitStatus
from storage.inspections import get_inspection
from storage.models import Role

log = logging.getLogger(__name__)

MAX_PHOTOS_PER_ITEM = 5
NOTE_MAX = 200
DONE = "done"


def _open_items(turn: Turn, report) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(item id, requirement) of the report's failed items."""
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
    if report is None or unit.status != UnitStatus.RECTIFYING or not any(
            value == Answer.FAIL for value in report.answers.values()):
        return [turn.menu_reply(turn.texts("owner_fix_nothing", unit=unit.name))]
    data = {"unit_id": unit.id, "unit_name": unit.name, "report_id": report.id, "fixed": {}}
    return await turn.runner.start(turn, OWNER_FIX.name, data)


async def _item_prompt(turn: Turn) -> Prompt:
    report = await get_inspection(turn.session, int(turn.data["report_id"]))
    fixed = turn.data.get("fixed", {})
    options = [Option(f"i{index}", f"{'✅ ' if str(index) in fixed else ''}{text[:30]}")
               for index, (_, text) in enumerate(_open_items(turn, report))]
    if fixed:
        options.append(Option(DONE, turn.texts("owner_fix_submit", n=len(fixed))))
    return Prompt(turn.texts("owner_fix_pick", unit=turn.data["unit_name"]), tuple(options))


def _store_item(turn: Turn, value: str) -> None:
    if value == DONE:
        return
    turn.data["current"] = value[1:]  # the item's place among the report's failed items
    turn.data.setdefault("fixed", {}).pop(value[1:], None)  # chosen again: reported afresh
    turn.data["photos"] = []


async def _photo_prompt(turn: Turn) -> Prompt:
    count = len(turn.data.get("photos", []))
    text = turn.texts("owner_fix_photo", n=count, max=MAX_PHOTOS_PER_ITEM)
    return Prompt(text, (Option(DONE, turn.texts("insp_photos_done", n=count)),) if count else ())


async def _parse_photo(turn: Turn, inbound: Inbound, prompt: Prompt) -> str:
    photos = turn.data.setdefault("photos", [])
    if inbound.kind is Kind.PHOTO and inbound.photo is not None:
        if len(photos) >= MAX_PHOTOS_PER_ITEM:
            raise Invalid(turn.texts("owner_fix_photo_limit", max=MAX_PHOTOS_PER_ITEM))
        photos.append({"file_id": inbound.photo.file_id, "unique_id": inbound.photo.file_unique_id,
                       "channel": inbound.channel})
        return "photo"
    if photos and inbound.kind in (Kind.PRESS, Kind.TEXT):
        return await parse_option(turn, inbound, prompt)
    # 已整改 without a photo is not taken: the cadre must see what changed.
    raise Invalid(turn.texts("owner_fix_photo_needed"))


async def _note_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("owner_fix_note", max=NOTE_MAX), (Option(SKIP, turn.texts("button_skip")),))


def _store_note(turn: Turn, value: str) -> None:
    turn.data.setdefault("fixed", {})[turn.data["current"]] = {"photos": turn.data.pop("photos", []), "note": value}


def _after_item(turn: Turn) -> str | None:
    return None if turn.data["item"] == DONE else "photo"


def _after_photo(turn: Turn) -> str:
    return "photo" if turn.data["photo"] == "photo" else "note"


async def _finish(turn: Turn) -> list[Reply]:
    unit = await units.get_unit(turn.session, int(turn.data["unit_id"]))
    report = await get_inspection(turn.session, int(turn.data["report_id"]))
    if unit is None or report is None or not await owners.owns(turn.session, turn.user.id, unit.id):
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    open_items = _open_items(turn, report)
    fixed = {open_items[int(index)][0]: entry for index, entry in turn.data.get("fixed", {}).items()
             if int(index) < len(open_items)}
    await owners.record_fix(turn.session, unit.id, report.id, turn.user.id, fixed, turn.clock.now())
    requirement = dict(open_items)
    lines = [turn.texts("owner_fix_item", n=n, requirement=requirement.get(item_id, item_id),
                        note=turn.texts("owner_notice_note", note=entry["note"]) if entry.get("note") else "")
             for n, (item_id, entry) in enumerate(fixed.items(), start=1)]
    task = turn.texts("owner_fix_task", unit=unit.name, owner=turn.user.name or turn.texts("no_name"),
                      n=len(fixed), items="\n".join(lines))
    photos = [photo["file_id"] for entry in fixed.values() for photo in entry["photos"]]
    cadres = await users.users_with_role(turn.session, Role.CADRE, unit.village_id)
    officials = await users.users_with_role(turn.session, Role.TOWNSHIP, unit.township_id)
    start_button = Choice(buttons.menu_data("inspect", unit.id), turn.texts("reinspect_start"))
    for person in [*cadres, *officials]:
        choices = (start_button,) if person.role == Role.CADRE else ()
        turn.notices.append(Reply(task, choices, chat_id=person.channel_user_id))
        turn.notices.extend(photo_replies(turn.texts("owner_fix_photos_caption", unit=unit.name), photos,
                                          chat_id=person.channel_user_id))
    log.info("owner %s reported %d items fixed on unit %s", turn.user.id, len(fixed), unit.id)
    return [turn.menu_reply(turn.texts("owner_fix_done", unit=unit.name, n=len(fixed), cadres=len(cadres)))]


OWNER_FIX = Flow("owner_fix", "报告已整改", (
    Step("item", _item_prompt, next=_after_item, store=_store_item),
    Step("photo", _photo_prompt, _parse_photo, next=_after_photo),
    Step("note", _note_prompt, optional_text(0, NOTE_MAX), next="item", store=_store_note),
), _finish, precious=True)
