"""工作群 in the county office's chat menu: the registered DingTalk and WeCom work groups, adding one step by step
(kind, scope, webhook, the DingTalk signing secret, a name; confirmed before anything is stored) and removing one
(confirmed first). The same checks as `shixiao groups add|list|remove` (handlers/work_groups.py); webhooks and
secrets are shown masked, never whole."""

from __future__ import annotations

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow import SKIP, Flow, Invalid, Option, Prompt, Step, pressed_or_typed, text_parser
from handlers.flow_state import FlowState
from handlers.work_groups import KINDS, BadGroup, check_group, check_name, default_name, masked
from storage import work_groups
from storage.areas import get_area, the_county
from storage.audience import list_townships
from storage.models import Area, AreaLevel, Role

COUNTY = "county"


def _refused(turn: Turn) -> list[Reply] | None:
    # menus.yaml refuses other roles first; this guards against a changed menu file
    return None if turn.user.role == Role.COUNTY else [turn.menu_reply(turn.texts("wg_chat_only_county"))]


async def show_groups(turn: Turn) -> list[Reply]:
    """工作群: each registered group with its scope, masked webhook and failures, a 删除 button each, and 添加."""
    refused = _refused(turn)
    if refused:
        return refused
    found = await work_groups.all_groups(turn.session)
    lines = [turn.texts("wg_chat_header", count=len(found)) if found else turn.texts("wg_chat_none")]
    choices: list[Choice] = []
    for n, (group, area) in enumerate(found, start=1):
        lines.append(
            turn.texts(
                "wg_chat_line",
                n=n,
                name=group.name,
                kind=KINDS.get(group.kind, group.kind),
                scope=area.name,
                webhook=masked(group.webhook),
                signed=turn.texts("wg_chat_signed" if group.secret else "wg_chat_unsigned"),
                failures=group.failures,
            )
        )
        choices.append(
            Choice(buttons.menu_data("group_remove", group.id), turn.texts("wg_chat_remove_button", name=group.name))
        )
    choices.append(Choice(buttons.menu_data("group_add"), turn.texts("wg_chat_add_button")))
    choices.append(Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")))
    return [Reply("\n".join(lines), tuple(choices), columns=1)]


class GroupAddAnswers(FlowState):
    kind: str = ""  # a key of KINDS
    scope: str = ""  # COUNTY, or t<township id>
    webhook: str = ""
    secret: str = ""  # DingTalk's signing secret ('' for none)
    name: str = ""  # '' keeps the suggested name, worked out again when the flow finishes
    confirm: str = ""


class GroupRemoveAnswers(FlowState):
    gid: int
    confirm: str = ""


async def start_add(turn: Turn) -> list[Reply]:
    return _refused(turn) or await turn.runner.start(turn, GROUP_ADD.name)


async def _scope(turn: Turn, value: str) -> Area | None:
    """The chosen scope: the county, or a township by its id (None when it no longer exists)."""
    if value == COUNTY:
        return await the_county(turn.session)
    area = await get_area(turn.session, int(value[1:])) if value[1:].isdigit() else None
    return area if area is not None and area.level == AreaLevel.TOWNSHIP else None


async def _kind_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    return Prompt(
        turn.texts("wg_chat_ask_kind"), tuple(Option(kind, label) for kind, label in KINDS.items()), columns=2
    )


async def _scope_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    options = [Option(COUNTY, turn.texts("wg_chat_scope_county"))]
    options += [Option(f"t{township.id}", township.name) for township in await list_townships(turn.session)]
    return Prompt(turn.texts("wg_chat_ask_scope"), tuple(options), columns=3)


async def _webhook_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    return Prompt(turn.texts(f"wg_chat_ask_webhook_{answers.kind}"))


async def _parse_webhook(turn: Turn, inbound: Inbound, prompt: Prompt, answers: GroupAddAnswers) -> str:
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    try:
        return check_group(
            turn.texts, answers.kind, inbound.text, None, allow_http=turn.config.robots_allow_http
        ).webhook
    except BadGroup as problem:
        raise Invalid(str(problem)) from None


async def _secret_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    return Prompt(turn.texts("wg_chat_ask_secret"), (Option(SKIP, turn.texts("wg_chat_no_secret")),))


async def _parse_secret(turn: Turn, inbound: Inbound, prompt: Prompt, answers: GroupAddAnswers) -> str:
    if await pressed_or_typed(turn, inbound, prompt) == SKIP:
        return ""
    secret = await text_parser(1, 400)(turn, inbound, prompt, answers)
    try:
        return (
            check_group(
                turn.texts, answers.kind, answers.webhook, secret, allow_http=turn.config.robots_allow_http
            ).secret
            or ""
        )
    except BadGroup as problem:
        raise Invalid(str(problem)) from None


async def _name_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    scope = await _scope(turn, answers.scope)
    suggested = default_name(answers.kind, scope.name if scope else "")
    return Prompt(
        turn.texts("wg_chat_ask_name", suggested=suggested),
        (Option(SKIP, turn.texts("wg_chat_use_suggested", suggested=suggested)),),
    )


async def _chosen_name(turn: Turn, answers: GroupAddAnswers, typed: str) -> str:
    if typed:
        return check_name(turn.texts, typed)
    scope = await _scope(turn, answers.scope)
    return default_name(answers.kind, scope.name if scope else "")


async def _parse_name(turn: Turn, inbound: Inbound, prompt: Prompt, answers: GroupAddAnswers) -> str:
    typed = (
        ""
        if await pressed_or_typed(turn, inbound, prompt) == SKIP
        else await text_parser(1, 200)(turn, inbound, prompt, answers)
    )
    try:
        name = await _chosen_name(turn, answers, typed)
    except BadGroup as problem:
        raise Invalid(str(problem)) from None
    if await work_groups.group_named(turn.session, name) is not None:
        raise Invalid(turn.texts("wg_chat_name_taken", name=name))
    return typed  # '' keeps the suggested name, worked out again when the flow finishes


async def _confirm_prompt(turn: Turn, answers: GroupAddAnswers) -> Prompt:
    scope = await _scope(turn, answers.scope)
    text = turn.texts(
        "wg_chat_confirm",
        name=await _chosen_name(turn, answers, answers.name),
        kind=KINDS[answers.kind],
        scope=scope.name if scope else "？",
        webhook=masked(answers.webhook),
        signed=turn.texts("wg_chat_signed" if answers.secret else "wg_chat_unsigned"),
    )
    return Prompt(
        text, (Option("yes", turn.texts("wg_chat_button_add")), Option("no", turn.texts("button_cancel"))), columns=2
    )


async def _finish_add(turn: Turn, answers: GroupAddAnswers) -> list[Reply]:
    refused = _refused(turn)
    if refused:
        return refused
    if answers.confirm != "yes":
        return [turn.menu_reply(turn.texts("revoke_cancelled"))]
    scope = await _scope(turn, answers.scope)
    if scope is None:  # the township was removed while the office was typing
        return [turn.menu_reply(turn.texts("wg_chat_scope_gone"))]
    try:  # checked again: the stored answers are only as good as the rules when they were given
        spec = check_group(
            turn.texts, answers.kind, answers.webhook, answers.secret or None, allow_http=turn.config.robots_allow_http
        )
        name = await _chosen_name(turn, answers, answers.name)
    except BadGroup as problem:
        return [turn.menu_reply(str(problem))]
    if await work_groups.group_named(turn.session, name) is not None:
        return [turn.menu_reply(turn.texts("wg_chat_name_taken", name=name))]
    await work_groups.add_group(turn.session, name, spec.kind, scope, spec.webhook, spec.secret, turn.clock.now())
    return [
        turn.menu_reply(
            turn.texts(
                "wg_chat_added", name=name, kind=KINDS[spec.kind], scope=scope.name, webhook=masked(spec.webhook)
            )
        )
    ]


async def start_remove(turn: Turn) -> list[Reply]:
    """删除 on a group of the list (argument: the group's number): asks for confirmation first."""
    refused = _refused(turn)
    if refused:
        return refused
    group = await work_groups.get_group(turn.session, turn.argument_id) if turn.argument_id else None
    if group is None:
        return [turn.menu_reply(turn.texts("wg_chat_not_found"))]
    return await turn.runner.start(turn, GROUP_REMOVE.name, GroupRemoveAnswers(gid=group.id))


async def _remove_prompt(turn: Turn, answers: GroupRemoveAnswers) -> Prompt:
    group = await work_groups.get_group(turn.session, answers.gid)
    options = (Option("yes", turn.texts("wg_chat_button_remove")), Option("no", turn.texts("button_cancel")))
    return Prompt(turn.texts("wg_chat_remove_confirm", name=group.name if group else "？"), options, columns=2)


async def _finish_remove(turn: Turn, answers: GroupRemoveAnswers) -> list[Reply]:
    refused = _refused(turn)
    if refused:
        return refused
    if answers.confirm != "yes":
        return [turn.menu_reply(turn.texts("revoke_cancelled"))]
    group = await work_groups.get_group(turn.session, answers.gid)
    if group is None:  # removed meanwhile (from the CLI, or a second tap)
        return [turn.menu_reply(turn.texts("wg_chat_not_found"))]
    name = group.name
    dropped = await work_groups.remove_group(turn.session, group)
    return [turn.menu_reply(turn.texts("wg_chat_removed", name=name, dropped=dropped))]


GROUP_ADD = Flow(
    "group_add",
    "添加工作群",
    (
        Step("kind", _kind_prompt),
        Step("scope", _scope_prompt),
        Step(
            "webhook",
            _webhook_prompt,
            _parse_webhook,
            next=lambda answers: "secret" if answers.kind == "dingtalk" else "name",
        ),
        Step("secret", _secret_prompt, _parse_secret),
        Step("name", _name_prompt, _parse_name),
        Step("confirm", _confirm_prompt, next=None),
    ),
    _finish_add,
    state=GroupAddAnswers,
)
GROUP_REMOVE = Flow(
    "group_remove",
    "删除工作群",
    (Step("confirm", _remove_prompt, next=None),),
    _finish_remove,
    state=GroupRemoveAnswers,
)

ACTIONS = {"groups": show_groups, "group_add": start_add, "group_remove": start_remove}
FLOWS = (GROUP_ADD, GROUP_REMOVE)
