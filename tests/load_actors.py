"""Simulated people for load and crash tests: a cast written straight into the database, and loops of real flows
through the Telegram emulator (a cadre's inspection report, a resident's complaint, questions, the county
office's broadcast to every operator). Each loop records what the bot confirmed, for the tests to check against
the database."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field

from sqlalchemy import select

from storage.areas import find_area
from storage.clock import Clock
from storage.complaint_models import Complaint
from storage.db import Database
from storage.inspection_models import Inspection
from storage.inspections import report_number
from storage.models import AreaLevel, Role, User
from storage.users import assign_role, create_user, set_name
from tests.emulator import SentMessage, SimulatedUser, TelegramEmulator
from tests.inspection_support import add_unit

TOWNSHIP = "岩头镇"
VILLAGES = ("芙蓉村", "苍坡村")
# Questions the shipped knowledge base answers, each with words only its own answer contains.
QUESTIONS = (
    ("饭店要办什么证", "餐饮服务许可证"),
    ("小餐馆的餐具要消毒吗", "一洗二清三消毒"),
    ("网吧几点关门", "8时至24时"),
    ("理发店要办什么证", "公共场所卫生许可证"),
    ("小旅馆要登记身份证吗", "旅馆业治安管理办法"),
    ("网吧能让未成年人进吗", "不得接纳未成年人"),
)
CATEGORIES = ("无证经营", "卫生条件差", "消防隐患")


@dataclass
class Cast:
    county: int
    township: int
    cadres: list[tuple[int, str]]  # (user id, unit name in their village)
    residents: list[int]
    askers: list[int]
    operators: list[int]


async def _person(session, clock: Clock, user_id: int, role: Role, area, name: str) -> None:
    user = await create_user(session, user_id, clock.now(), role)
    await assign_role(session, user, role, area)
    set_name(user, name)


async def seed_cast(
    db: Database,
    emulator: TelegramEmulator,
    clock: Clock,
    *,
    cadres: int = 2,
    residents: int = 2,
    askers: int = 1,
    operators: int = 40,
    first_id: int = 7000,
) -> Cast:
    """Registered people (as invites would have made them), each with a chat in the emulator."""
    ids = iter(range(first_id, first_id + 10_000))
    cast = Cast(county=next(ids), township=next(ids), cadres=[], residents=[], askers=[], operators=[])
    async with db.transaction() as session:
        township = await find_area(session, TOWNSHIP, AreaLevel.TOWNSHIP)
        villages = [await find_area(session, name, AreaLevel.VILLAGE) for name in VILLAGES]
        await _person(session, clock, cast.county, Role.COUNTY, None, "县整规办老周")
        await _person(session, clock, cast.township, Role.TOWNSHIP, township, "陈镇长")
        for n in range(cadres):
            user_id = next(ids)
            await _person(session, clock, user_id, Role.CADRE, villages[n % len(villages)], f"村干部{n}")
            cast.cadres.append((user_id, f"第{n}号小吃店"))
        for n in range(residents):
            cast.residents.append(next(ids))
            await _person(session, clock, cast.residents[-1], Role.RESIDENT, None, f"居民{n}")
        for n in range(askers):
            cast.askers.append(next(ids))
            await _person(session, clock, cast.askers[-1], Role.RESIDENT, None, f"提问人{n}")
        for n in range(operators):
            cast.operators.append(next(ids))
            await _person(session, clock, cast.operators[-1], Role.OPERATOR, villages[n % len(villages)], f"业主{n}")
    for n, (_, unit) in enumerate(cast.cadres):
        await add_unit(db, clock, VILLAGES[n % len(VILLAGES)], unit)
    everyone = [
        cast.county,
        cast.township,
        *(c for c, _ in cast.cadres),
        *cast.residents,
        *cast.askers,
        *cast.operators,
    ]
    for user_id in everyone:
        emulator.user(user_id, f"用户{user_id}")  # the chat exists, as for anyone who once pressed Start
    return cast


class Actor:
    """A person taking one step at a time: send, then wait for the reply that step must bring.

    A reply re-sent after a crash (the same text again) is never taken for the next step's reply: the last
    few texts received are skipped.
    """

    def __init__(self, user: SimulatedUser, timeout: float) -> None:
        self.user = user
        self.timeout = timeout
        self.last: SentMessage | None = None
        self.recent: deque[str] = deque(maxlen=3)
        self.steps = 0

    async def step(self, send: Awaitable[int], expect: str, *alternatives: str) -> SentMessage:
        """Send, then wait for the bot's message containing `expect` (or one of the alternatives)."""
        await send
        wanted = (expect, *alternatives)
        reply = await self.user.expect(
            lambda m: not m.is_edit and any(w in m.content for w in wanted) and m.content not in self.recent,
            self.timeout,
        )
        self.recent.append(reply.content)
        self.last = reply
        self.steps += 1
        return reply

    def press(self, label: str) -> Awaitable[int]:
        return self.user.press(label, message=self.last)

    def text(self, text: str) -> Awaitable[int]:
        return self.user.send_text(text)

    def menu(self) -> Awaitable[int]:
        return self.user.send_command("/menu")


@dataclass
class Record:
    """What the bot confirmed to the simulated people."""

    inspections: dict[int, list[str]] = field(default_factory=dict)  # cadre id -> report numbers
    complaints: dict[int, list[str]] = field(default_factory=dict)  # resident id -> tracking numbers
    answers: dict[int, int] = field(default_factory=dict)  # asker id -> questions answered
    broadcasts: list[str] = field(default_factory=list)  # the texts sent, each to every operator


async def stored_reports(db: Database) -> Record:
    """The inspections and complaints the database holds, by the chat id of who filed them."""
    stored = Record()
    async with db.transaction() as session:
        for inspection, chat in await session.execute(
            select(Inspection, User.channel_user_id)
            .join(User, Inspection.inspector_id == User.id)
            .order_by(Inspection.id)
        ):
            stored.inspections.setdefault(chat, []).append(report_number(inspection))
        for number, chat in await session.execute(
            select(Complaint.number, User.channel_user_id)
            .join(User, Complaint.complainant_id == User.id)
            .order_by(Complaint.id)
        ):
            stored.complaints.setdefault(chat, []).append(number)
    return stored


async def inspection(actor: Actor, unit: str) -> str:
    a = actor
    await a.step(a.menu(), "请选择要办理的事项")
    await a.step(a.press("检查上报"), "请选择要检查的单位")
    chosen = await a.step(a.press(unit), "检查第", "仍要开始新的检查吗")
    if "仍要开始新的检查吗" in chosen.content:  # the cadre's previous report of the unit still waits for review
        chosen = await a.step(a.press("继续检查"), "检查第")
    if "上次检查（" in chosen.content:  # the unit is being put right: re-inspected from its last report
        await a.step(a.press("✗ 不符合"), "请简要说明")
        await a.step(a.text("仍未亮证亮照"), "沿用上次检查结果")
        keep = next(label for label, _ in a.user.last_buttons() if label.startswith("全部沿用"))
        await a.step(a.press(keep), "请拍摄现场照片")
    else:
        await a.step(a.press("✓ 符合"), "检查第2/")
        await a.step(a.press("✗ 不符合"), "请简要说明")
        await a.step(a.text("未亮证亮照"), "检查第3/")
        await a.step(a.press("余下各项均符合"), "燃气")
        await a.step(a.press("否"), "请拍摄现场照片")
    await a.step(a.user.send_photo(b"\x89PNG fake photo bytes"), "第1张照片已保存")
    await a.step(a.press("完成（已传1张）"), "发送检查地点的位置")
    await a.step(a.user.tap("📍 发送我的位置", latitude=28.15, longitude=120.69), "有1项不符合")
    await a.step(a.press("同意此判定"), "整治分类")
    await a.step(a.press("整改规范类（建议）"), "整改期限")
    await a.step(a.text("7天后"), "确认吗")
    await a.step(a.press("确认"), "【检查报告摘要】")
    done = await a.step(a.press("✅ 提交"), "已提交")
    return re.search(r"检查报告 (\S+) 已提交", done.content)[1]


async def complaint(actor: Actor, n: int) -> str:
    a = actor
    await a.step(a.menu(), "请选择要办理的事项")
    await a.step(a.press("投诉举报"), "请选择问题类别")
    await a.step(a.press(CATEGORIES[n % len(CATEGORIES)]), "问题发生在哪个乡镇")
    await a.step(a.press(TOWNSHIP), "请选择所在的村")
    await a.step(a.press(VILLAGES[0]), "被投诉的是哪家店")
    await a.step(a.text(f"{a.user.user_id}号第{n}家小卖部"), "请描述问题")
    await a.step(a.text(f"第{n}次反映：没有营业执照，天天开门卖烟酒"), "如有现场照片")
    await a.step(a.press("完成"), "请选择提交方式")
    await a.step(a.press("匿名提交"), "确认提交吗")
    done = await a.step(a.press("确认提交"), "投诉已提交")
    return re.search(r"TS-\d{4}-\d{6}", done.content)[0]


async def ask(actor: Actor, n: int) -> None:
    question, answer = QUESTIONS[n % len(QUESTIONS)]
    await actor.step(actor.text(question), answer)


async def broadcast(actor: Actor, text: str, operators: int) -> None:
    a = actor
    await a.step(a.menu(), "请选择要办理的事项")
    await a.step(a.press("发布通知"), "请输入要发布的通知内容")
    await a.step(a.text(text), "发给哪些人")
    await a.step(a.press("“十小”业主"), "发送范围")
    await a.step(a.press("全县"), f"共{operators}人")
    await a.step(a.press("✅ 确认发送"), f"通知已发出，共{operators}人")


class Load:
    """Everyone in the cast runs their flow again and again: cadres report, residents complain, askers ask and
    the county office broadcasts to every operator."""

    def __init__(self, emulator: TelegramEmulator, cast: Cast, *, timeout: float) -> None:
        self.cast = cast
        self.record = Record()

        def actor(user_id: int) -> Actor:
            return Actor(emulator.user(user_id), timeout)

        self.cadres = [(actor(user_id), unit) for user_id, unit in cast.cadres]
        self.residents = [actor(user_id) for user_id in cast.residents]
        self.askers = [actor(user_id) for user_id in cast.askers]
        self.county = actor(cast.county)

    @property
    def actors(self) -> list[Actor]:
        return [*(a for a, _ in self.cadres), *self.residents, *self.askers, self.county]

    async def run(self, stop: asyncio.Event, *, rounds: int | None = None, broadcast_pause: float = 0.0) -> Record:
        """Until `stop` is set (each loop then finishes its current flow), or `rounds` flows each."""
        record = self.record

        def more(done: int) -> bool:
            return not stop.is_set() and (rounds is None or done < rounds)

        async def cadre(actor: Actor, unit: str) -> None:
            numbers = record.inspections.setdefault(actor.user.user_id, [])
            while more(len(numbers)):
                numbers.append(await inspection(actor, unit))

        async def resident(actor: Actor) -> None:
            numbers = record.complaints.setdefault(actor.user.user_id, [])
            while more(len(numbers)):
                numbers.append(await complaint(actor, len(numbers)))

        async def asker(actor: Actor) -> None:
            record.answers[actor.user.user_id] = 0
            while more(record.answers[actor.user.user_id]):
                await ask(actor, record.answers[actor.user.user_id])
                record.answers[actor.user.user_id] += 1

        async def county(actor: Actor) -> None:
            while more(len(record.broadcasts)):
                text = f"第{len(record.broadcasts) + 1}号通知：请各业主于本周内完成亮证经营自查。"
                await broadcast(actor, text, len(self.cast.operators))
                record.broadcasts.append(text)
                await asyncio.sleep(broadcast_pause)

        await asyncio.gather(
            *(cadre(a, unit) for a, unit in self.cadres),
            *(resident(a) for a in self.residents),
            *(asker(a) for a in self.askers),
            county(self.county),
        )
        return record
