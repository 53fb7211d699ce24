"""人员管理 for the county office in the chat: people by role and township, revoking one (confirmed first), and the
open invite codes, withdrawing one (confirmed first). The rules themselves are in handlers/access.py."""

from __future__ import annotations

from handlers import access, buttons
from handlers.context import Turn, parse_id
from handlers.events import Choice, Reply
from handlers.flow import Flow, Option, Prompt, Step
from handlers.flow_state import FlowState
from handlers.formatting import cn_date, cn_datetime
from storage import invites, people, users
from storage.audience import list_townships
from storage.models import Role

LISTED = (Role.COUNTY, Role.TOWNSHIP, Role.CADRE, Role.OPERATOR)
PAGE = 8  # people or codes per message, each with its own button
ALL = "all"


def _pages(count: int, page: int) -> tuple[int, int]:
    pages = max(1, -(-count // PAGE))
    return min(max(page, 1), pages), pages  # a stale page number (fewer people now) shows the last page


def _navigation(turn: Turn, action: str, prefix: str, page: int, pages: int) -> list[Choice]:
    shown = []
    if page > 1:
        shown.append(Choice(buttons.menu_data(action, f"{prefix}{page - 1}"), turn.texts("people_page_previous")))
    if page < pages:
        shown.append(Choice(buttons.menu_data(action, f"{prefix}{page + 1}"), turn.texts("people_page_next")))
    return shown


async def show_people(turn: Turn) -> list[Reply]:
    """The 人员管理 action. Its argument, carried by its own buttons: <role>[.<township id>|all[.<page>]]."""
    parts = turn.argument.split(".") if turn.argument else []
    role = next((r for r in LISTED if parts and parts[0] == r.value), None)
    if role is None:
        return await _choose_role(turn)
    if role == Role.COUNTY:
        parts[1:2] = [ALL]
    if len(parts) < 2:
        return await _choose_township(turn, role)
    township_id = None if parts[1] == ALL else parse_id(parts[1])
    if township_id == 0 or (township_id is None and parts[1] != ALL):
        return await _choose_township(turn, role)
    page = parse_id(parts[2]) if len(parts) > 2 else 1
    return await _list_people(turn, role, township_id, page or 1)


async def _choose_role(turn: Turn) -> list[Reply]:
    everyone = await people.list_people(turn.session, LISTED)
    choices = [
        Choice(
            buttons.menu_data("people", role.value),
            turn.texts("people_role_button", title=turn.menus.title(role), count=sum(p.role == role for p in everyone)),
        )
        for role in LISTED
    ]
    open_codes = await invites.open_invites(turn.session, turn.clock.now())
    choices.append(Choice(buttons.menu_data("codes"), turn.texts("people_codes_button", count=len(open_codes))))
    choices.append(Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")))
    return [Reply(turn.texts("people_choose"), tuple(choices), columns=2)]


async def _choose_township(turn: Turn, role: Role) -> list[Reply]:
    everyone = await people.list_people(turn.session, (role,))
    choices = [
        Choice(buttons.menu_data("people", f"{role.value}.{ALL}"), turn.texts("people_all_button", count=len(everyone)))
    ]
    for township in await list_townships(turn.session):
        here = sum(1 for p in everyone if p.area is not None and township.id in (p.area.id, p.area.parent_id))
        choices.append(Choice(buttons.menu_data("people", f"{role.value}.{township.id}"), f"{township.name}（{here}）"))
    choices.append(Choice(buttons.menu_data("people"), turn.texts("people_back")))
    return [Reply(turn.texts("people_choose_township", title=turn.menus.title(role)), tuple(choices), columns=3)]


async def _list_people(turn: Turn, role: Role, township_id: int | None, page: int) -> list[Reply]:
    found = await people.list_people(turn.session, (role,), township_id)
    title = turn.menus.title(role)
    where = "全县"
    if township_id is not None:
        township = next((t for t in await list_townships(turn.session) if t.id == township_id), None)
        if township is None:
            return await _choose_township(turn, role)
        where = township.name
    back = Choice(buttons.menu_data("people"), turn.texts("people_back"))
    if not found:
        return [turn.menu_reply(turn.texts("people_none", title=title, where=where))]
    page, pages = _pages(len(found), page)
    shown = found[(page - 1) * PAGE : page * PAGE]
    lines = [turn.texts("people_header", title=title, where=where, count=len(found), page=page, pages=pages)]
    choices: list[Choice] = []
    for n, person in enumerate(shown, start=(page - 1) * PAGE + 1):
        lines.append(
            turn.texts(
                "people_line",
                n=n,
                who=access.person(turn.texts, person),
                identity=access.identity(turn.menus, person.role, person.area),
                date=cn_date(person.created_at, turn.clock.tz),
            )
        )
        choices.append(
            Choice(
                buttons.menu_data("person_revoke", person.id),
                turn.texts("people_revoke_button", name=person.name or f"编号{person.id}"),
            )
        )
    prefix = f"{role.value}.{township_id if township_id is not None else ALL}."
    choices += [*_navigation(turn, "people", prefix, page, pages), back]
    return [Reply("\n".join(lines), tuple(choices), columns=2)]


async def start_person_revoke(turn: Turn) -> list[Reply]:
    """撤销 on a person of the list (argument: their user number): asks for confirmation first."""
    user_id = turn.argument_id
    subject = await users.get_user(turn.session, user_id) if user_id else None
    if subject is None:
        return [turn.menu_reply(turn.texts("revoke_not_found", id=turn.argument[:12] or "？"))]
    if subject.role == Role.RESIDENT:
        return [turn.menu_reply(turn.texts("revoke_resident", who=access.person(turn.texts, subject)))]
    return await turn.runner.start(turn, PERSON_REVOKE.name, PersonRevokeAnswers(uid=subject.id))


class PersonRevokeAnswers(FlowState):
    uid: int
    confirm: str = ""


async def _person_revoke_prompt(turn: Turn, answers: PersonRevokeAnswers) -> Prompt:
    subject = await users.get_user(turn.session, answers.uid)
    who, where = (
        (access.person(turn.texts, subject), access.identity(turn.menus, subject.role, subject.area))
        if subject is not None
        else ("", "")
    )
    options = (Option("yes", turn.texts("button_confirm_revoke")), Option("no", turn.texts("button_cancel")))
    return Prompt(turn.texts("person_revoke_confirm", who=who, identity=where), options, columns=2)


async def _finish_person_revoke(turn: Turn, answers: PersonRevokeAnswers) -> list[Reply]:
    if answers.confirm != "yes":
        return [turn.menu_reply(turn.texts("revoke_cancelled"))]
    subject = await users.get_user(turn.session, answers.uid)
    before = access.identity(turn.menus, subject.role, subject.area) if subject is not None else ""
    try:
        notices = await access.revoke_person(
            turn.session, turn.texts, turn.menus, answers.uid, turn.clock.now(), actor=turn.user
        )
    except access.Refused as refused:
        return [turn.menu_reply(refused.message)]
    turn.notices.extend(notices)
    assert subject is not None
    return [turn.menu_reply(turn.texts("person_revoked", who=access.person(turn.texts, subject), identity=before))]


PERSON_REVOKE = Flow(
    "person_revoke",
    "撤销人员身份",
    (Step("confirm", _person_revoke_prompt, next=None),),
    _finish_person_revoke,
    state=PersonRevokeAnswers,
)


async def show_codes(turn: Turn) -> list[Reply]:
    """未使用的邀请码 (argument: the page): each code with who may use it, until when, who made it."""
    found = await invites.open_invites(turn.session, turn.clock.now())
    if not found:
        return [turn.menu_reply(turn.texts("codes_none"))]
    page, pages = _pages(len(found), turn.argument_id or 1)
    lines = [turn.texts("codes_header", count=len(found), page=page, pages=pages)]
    choices: list[Choice] = []
    for n, (invite, made_by) in enumerate(found[(page - 1) * PAGE : page * PAGE], start=(page - 1) * PAGE + 1):
        creator = access.person(turn.texts, made_by) if made_by is not None else turn.texts("access_by_cli")
        lines.append(
            turn.texts(
                "codes_line",
                n=n,
                code=invite.code,
                identity=access.identity(turn.menus, invite.role, invite.area),
                expires=cn_datetime(invite.expires_at, turn.clock.tz),
                creator=creator,
            )
        )
        choices.append(
            Choice(buttons.menu_data("code_revoke", invite.id), turn.texts("code_revoke_button", code=invite.code))
        )
    choices += [
        *_navigation(turn, "codes", "", page, pages),
        Choice(buttons.menu_data("people"), turn.texts("people_back")),
    ]
    return [Reply("\n".join(lines), tuple(choices), columns=2)]


async def start_code_revoke(turn: Turn) -> list[Reply]:
    """作废 on a code of the list (argument: the invite's number): asks for confirmation first."""
    invite = await invites.get_invite(turn.session, turn.argument_id) if turn.argument_id else None
    problem = invites.check_invite(invite, turn.clock.now())
    if problem is not None or invite is None:
        return [turn.menu_reply(turn.texts(f"code_revoke_{(problem or invites.InviteProblem.UNKNOWN).value}"))]
    return await turn.runner.start(turn, CODE_REVOKE.name, CodeRevokeAnswers(iid=invite.id))


class CodeRevokeAnswers(FlowState):
    iid: int
    confirm: str = ""


async def _code_revoke_prompt(turn: Turn, answers: CodeRevokeAnswers) -> Prompt:
    invite = await invites.get_invite(turn.session, answers.iid)
    code, where = (invite.code, access.identity(turn.menus, invite.role, invite.area)) if invite else ("", "")
    options = (Option("yes", turn.texts("button_confirm_code_revoke")), Option("no", turn.texts("button_cancel")))
    return Prompt(turn.texts("code_revoke_confirm", code=code, identity=where), options, columns=2)


async def _finish_code_revoke(turn: Turn, answers: CodeRevokeAnswers) -> list[Reply]:
    if answers.confirm != "yes":
        return [turn.menu_reply(turn.texts("revoke_cancelled"))]
    invite = await invites.get_invite(turn.session, answers.iid)
    try:
        await access.revoke_code(turn.session, turn.texts, invite, turn.clock.now())
    except access.Refused as refused:
        return [turn.menu_reply(refused.message)]
    assert invite is not None
    return [turn.menu_reply(turn.texts("code_revoked", code=invite.code))]


CODE_REVOKE = Flow(
    "code_revoke",
    "作废邀请码",
    (Step("confirm", _code_revoke_prompt, next=None),),
    _finish_code_revoke,
    state=CodeRevokeAnswers,
)

ACTIONS = {
    "people": show_people,
    "person_revoke": start_person_revoke,
    "codes": show_codes,
    "code_revoke": start_code_revoke,
}
FLOWS = (PERSON_REVOKE, CODE_REVOKE)
