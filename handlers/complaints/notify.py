"""Messages about a complaint to other people: the office that handles it, the complainant and followers.

Everything here returns Reply values addressed by chat id; a handler appends them to turn.notices, a scheduled
job writes them to the outbox. Identity is worded through privacy (officials' audience), never read directly.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.complaints import deadlines, render
from handlers.complaints.categories import ComplaintConfig
from handlers.complaints.privacy import Audience
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.texts import Texts
from storage import complaints
from storage.complaint_models import Complaint
from storage.models import Area, AreaLevel, Role, User
from storage.users import users_with_role


def action_data(action: str, *arguments: object) -> str:
    """A menu button that carries its object: m.<action>.<id>[:<more>] (the action reads turn.argument)."""
    return buttons.menu_data(action, ":".join(map(str, arguments)))


def official_buttons(texts: Texts, complaint: Complaint, *, accept: bool) -> tuple[Choice, ...]:
    choices = [Choice(action_data("complaint_view", complaint.id), texts("complaint_button_view"))]
    if accept:
        choices.insert(0, Choice(action_data("complaint_accept", complaint.id), texts("complaint_button_accept")))
    choices.append(Choice(action_data("complaint_reroute", complaint.id), texts("complaint_button_reroute")))
    return tuple(choices)


async def county_officials(session: AsyncSession) -> list[User]:
    return await users_with_role(session, Role.COUNTY)


async def office_officials(session: AsyncSession, complaint: Complaint) -> tuple[list[User], bool]:
    """Who handles it now; (officials, fell_back): a township with no registered official falls back to the
    county office, so a complaint is never addressed to nobody."""
    office = await session.get(Area, complaint.office_area_id)
    if office is not None and office.level == AreaLevel.TOWNSHIP:
        found = await users_with_role(session, Role.TOWNSHIP, office.id)
        if found:
            return found, False
        return await county_officials(session), True
    return await county_officials(session), False


def to_users(
    users: Iterable[User], text: str, choices: tuple[Choice, ...] = (), *, exclude: int | None = None, columns: int = 2
) -> list[Reply]:
    return [Reply(text, choices, columns=columns, chat_id=user.channel_user_id) for user in users if user.id != exclude]


async def new_complaint(
    session: AsyncSession, texts: Texts, config: ComplaintConfig, complaint: Complaint, *, actor_id: int | None = None
) -> list[Reply]:
    officials, fell_back = await office_officials(session, complaint)
    text = texts(
        "complaint_new_notice",
        number=complaint.number,
        category=config.name(complaint.category),
        place=await render.place(session, complaint),
        unit=render.unit_label(texts, complaint),
        description=render.preview(complaint.description),
        photos=len(await complaints.photos_of(session, complaint.id)),
        identity=render.identity_label(texts, complaint, Audience.TOWNSHIP),
        due=cn_date(complaint.due_on),
        note=deadlines.shown_note(texts, config.calendar, complaint),
    )
    if fell_back:
        township = await session.get(Area, complaint.township_id)
        text = f"{text}\n{texts('complaint_new_notice_fallback', township=township.name if township else '')}"
    return to_users(officials, text, official_buttons(texts, complaint, accept=True), exclude=actor_id)


async def to_office(
    session: AsyncSession, complaint: Complaint, text: str, texts: Texts, *, exclude: int | None = None
) -> list[Reply]:
    officials, _ = await office_officials(session, complaint)
    return to_users(officials, text, official_buttons(texts, complaint, accept=False), exclude=exclude)


async def to_complainant_and_followers(
    session: AsyncSession,
    complaint: Complaint,
    own_text: str,
    follower_text: str | None = None,
    *,
    exclude: int | None = None,
) -> list[Reply]:
    """The same news to the complainant and to everyone following the complaint (never to the actor)."""
    replies: list[Reply] = []
    complainant = await session.get(User, complaint.complainant_id)
    if complainant is not None and complainant.id != exclude:
        replies.append(Reply(own_text, chat_id=complainant.channel_user_id))
    follower_text = follower_text or own_text
    replies.extend(to_users(await complaints.followers(session, complaint.id), follower_text, exclude=exclude))
    return replies


async def progress(
    session: AsyncSession, texts: Texts, complaint: Complaint, note: str, *, exclude: int | None = None
) -> list[Reply]:
    """The official's note goes to the complainant only; followers learn the public status, never the note."""
    status = render.status_label(texts, complaint.status)
    return await to_complainant_and_followers(
        session,
        complaint,
        texts("complaint_progress", number=complaint.number, status=status, note=note),
        texts("complaint_progress_follower", number=complaint.number, status=status),
        exclude=exclude,
    )


async def feedback_question(session: AsyncSession, texts: Texts, complaint: Complaint) -> list[Reply]:
    """After 已办结 the complainant (only) is asked whether it is really fixed."""
    complainant = await session.get(User, complaint.complainant_id)
    if complainant is None:
        return []
    choices = (
        Choice(action_data("complaint_feedback", complaint.id, "yes"), texts("complaint_button_solved")),
        Choice(action_data("complaint_feedback", complaint.id, "no"), texts("complaint_button_not_solved")),
    )
    return [
        Reply(
            texts("complaint_feedback_question", number=complaint.number),
            choices,
            columns=2,
            chat_id=complainant.channel_user_id,
        )
    ]


async def overdue_lines(session: AsyncSession, texts: Texts, config: ComplaintConfig, items: list[Complaint]) -> str:
    lines = []
    for complaint in items:
        lines.append(
            texts(
                "complaint_overdue_line",
                number=complaint.number,
                category=config.name(complaint.category),
                place=await render.place(session, complaint),
                due=cn_date(complaint.due_on),
                status=render.status_label(texts, complaint.status),
            )
        )
    return "\n".join(lines)
