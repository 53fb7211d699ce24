"""Schemas of the files in knowledge/data/ (pydantic) and the plain objects the rest of the code uses."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

if TYPE_CHECKING:  # both import this module
    from knowledge.places import Places
    from knowledge.vocabulary import VocabularyFile

ID_PATTERN = r"^[a-z0-9][a-z0-9_]*(\.[a-z0-9_]+)*$"
# YAML folded blocks join lines with a space, which must not appear between two Chinese characters.
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")


def _tidy(text: str) -> str:
    return _CJK_SPACE.sub("", text)


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_tidy)]
Certainty = Literal["法", "规", "典"]
AnswerValue = Literal["pass", "fail", "na", "yes", "no"]

# Values a cadre can give: a check item is 符合/不符合/不适用, a gate item (a screening question) is 是/否.
ANSWER_LABELS: dict[str, str] = {"pass": "符合", "fail": "不符合", "na": "不适用", "yes": "是", "no": "否"}
KIND_VALUES: dict[str, tuple[str, ...]] = {"check": ("pass", "fail", "na"), "gate": ("yes", "no")}


class KnowledgeError(Exception):
    """Any problem with the knowledge data; the message names the file and the entry or item."""


class _Strict(BaseModel):
    # Unknown keys are errors: a misspelt key would otherwise be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    doc: Id
    section: str | None = None
    certainty: Certainty | None = None


class EntrySpec(_Strict):
    id: Id
    questions: Annotated[list[Text], Field(min_length=1)]
    answer: Text
    source: SourceRef
    reviewed: dt.date | None = None
    # The trades this entry is about, when its file's `trades` (or their absence) does not fit it: Zhejiang's small
    # food shops' fines are no answer about a foot-bath worker's health certificate.
    trades: list[Text] = []


class Superseded(_Strict):
    """A document no longer in force as cited: every answer resting on it says so."""

    year: int  # when it was replaced or revised
    note: Text  # shown as 注：… under such answers (not under one that already names the year)
    # The rule as it stands now, by the section an answer cites (a key such as 第三十四条, found in the citation):
    # shown as 现行规定：… under the answer.
    current: dict[str, Text] = {}


class DocSpec(_Strict):
    title: Text
    superseded: Superseded | None = None


class SourcesFile(_Strict):
    documents: dict[Id, DocSpec]
    certainty: dict[Certainty, str]
    # Wording when the citation names an article (第二十九条): there the doubt is about the number only.
    certainty_with_section: dict[Certainty, str] = {}


class SynonymGroup(_Strict):
    canonical: Text
    variants: Annotated[list[Text], Field(min_length=1)]


class SynonymsFile(_Strict):
    groups: list[SynonymGroup]
    fillers: list[Text] = []
    keep: list[Text] = []
    key_terms: list[Text] = []
    question_words: list[Text] = []
    # Terms also recognised when typed with pinyin homophones (营业只照), and real words never taken for such a typo.
    homophone_terms: list[Text] = []
    not_typos: list[Text] = []


class Relevant(_Strict):
    """Skip logic: the item is asked only when an earlier item was answered `equals`."""

    item: Id
    equals: AnswerValue


class Faq(_Strict):
    questions: Annotated[list[Text], Field(min_length=1)]
    answer: Text


class ItemSpec(_Strict):
    id: Id
    kind: Literal["check", "gate"] = "check"
    text: Text
    topic: Id  # what it checks (common.yaml topics): one checklist never asks one topic twice
    replaces: list[Id] = []  # an industry's own form of these common items, which its checklist then leaves out
    help: Text
    veto: bool = False
    relevant: Relevant | None = None
    source: SourceRef
    faq: Faq | None = None

    @model_validator(mode="after")
    def _gate_is_not_veto(self) -> ItemSpec:
        if self.kind == "gate" and self.veto:
            raise ValueError("筛选题（kind: gate）不能设为一票否决")
        return self


class RetiredSpec(_Strict):
    """An item merged into another: its id stays readable in the reports and exports made before the merge."""

    id: Id
    into: Id  # the item that asks it now
    text: Text  # the item as it was asked


class LicenceSpec(_Strict):
    name: Text
    note: str | None = None
    source: SourceRef


class LeadSpec(_Strict):
    name: Text
    source: SourceRef


class EntriesFile(_Strict):
    reviewed: dt.date | None = None
    # The trades (their key terms: 餐饮店, 食杂店…) the file's entries are about; empty: every trade. A question naming
    # only other trades is not answered from the file (the food law is no answer about a clinic's drugs).
    trades: list[Text] = []
    entries: list[EntrySpec] = []


class CommonFile(EntriesFile):
    topics: Annotated[dict[Id, Text], Field(min_length=1)]
    items: Annotated[list[ItemSpec], Field(min_length=1)]


class IndustryFile(EntriesFile):
    slug: Id
    name: Text
    aliases: list[Text] = []
    lead_department: LeadSpec
    licences: Annotated[list[LicenceSpec], Field(min_length=1)]
    items: Annotated[list[ItemSpec], Field(min_length=1)]
    retired: list[RetiredSpec] = []


class GeneratedEntry(_Strict):
    id: Id
    questions: Annotated[list[Text], Field(min_length=1)]


class IndustriesFile(EntriesFile):
    industries: Annotated[list[Id], Field(min_length=1)]
    list_entry: GeneratedEntry


class Targets(_Strict):
    year: int
    township_share: int = Field(ge=1, le=100)
    unit_share_in_township: int = Field(ge=1, le=100)
    industry_unit_share: int = Field(ge=1, le=100)


class PhaseSpec(_Strict):
    number: int = Field(ge=1)
    name: Text
    start_month: int = Field(ge=1, le=12)
    end_month: int = Field(ge=1, le=12)
    summary: Text
    questions: Annotated[list[Text], Field(min_length=1)]


Responsible = Literal["乡镇", "牵头部门", "县整规办", "各部门"]


class MilestoneSpec(_Strict):
    id: Id
    number: int = Field(ge=1)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    year_end: bool = False
    title: Text
    responsible: Annotated[list[Responsible], Field(min_length=1)]
    text: Text
    questions: Annotated[list[Text], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> MilestoneSpec:
        if self.year_end == (self.month is not None or self.day is not None):
            raise ValueError("日期要么写 month 和 day，要么写 year_end: true，二者取其一")
        if not self.year_end and (self.month is None or self.day is None):
            raise ValueError("month 和 day 必须同时填写")
        return self


class PlanFile(EntriesFile):
    document: Id
    targets: Targets
    phases: Annotated[list[PhaseSpec], Field(min_length=1)]
    phases_entry: GeneratedEntry
    milestones: Annotated[list[MilestoneSpec], Field(min_length=1)]
    schedule_entry: GeneratedEntry
    # Answered from today's date: the phase the plan is in and the next milestones (knowledge/today.py).
    today_entry: GeneratedEntry | None = None
    date_entry_questions: Annotated[list[Text], Field(min_length=1)]


# ---- plain objects handed to search, answering and checklists -------------------------------------------


@dataclass(frozen=True)
class Entry:
    id: str
    questions: tuple[str, ...]
    answer: str
    source: str
    reviewed: dt.date
    file: str
    trade: str | None = None  # the industry's key term (餐饮店, 网吧…) when the entry belongs to one industry
    scope: frozenset[str] = frozenset()  # trades the entry is about, when it belongs to none of them (empty: all)


@dataclass(frozen=True)
class Milestone:
    id: str
    number: int
    month: int | None
    day: int | None
    year_end: bool
    title: str
    responsible: tuple[str, ...]
    text: str

    def due(self, year: int) -> dt.date:
        return dt.date(year, 12, 31) if self.year_end else dt.date(year, self.month or 12, self.day or 31)

    @property
    def label(self) -> str:
        return "年底" if self.year_end else f"{self.month}月{self.day}日"


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    kind: str
    text: str
    help: str
    veto: bool
    relevant_item: str | None
    relevant_equals: str | None
    source: str
    topic: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        return KIND_VALUES[self.kind]


@dataclass(frozen=True)
class RetiredItem:
    id: str
    into: str
    text: str


# When a merged item's old answer meets its successor's in a corrected report, the harsher one stands.
_SEVERITY = {"fail": 3, "pass": 2, "na": 1}


@dataclass(frozen=True)
class Checklist:
    slug: str
    name: str
    aliases: tuple[str, ...]
    lead_department: str
    licences: tuple[str, ...]
    items: tuple[ChecklistItem, ...]
    retired: tuple[RetiredItem, ...] = ()

    def item(self, item_id: str) -> ChecklistItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def resolve(self, item_id: str) -> str | None:
        """The id that asks it now: the item itself, a merged item's successor, or None (unknown)."""
        if any(item.id == item_id for item in self.items):
            return item_id
        return next((old.into for old in self.retired if old.id == item_id), None)

    def text_of(self, item_id: str) -> str | None:
        """What was asked under this id: a current item's text, or a merged item's text as it was."""
        if any(item.id == item_id for item in self.items):
            return self.item(item_id).text
        return next((old.text for old in self.retired if old.id == item_id), None)

    @property
    def total(self) -> int:
        """The count shown as 第n/N项: items asked of every unit; a screening question's follow-ups are numbered
        under it (第5/12项（补充1）), so N never changes while the checklist is filled in."""
        return sum(item.relevant_item is None for item in self.items)

    def position(self, item_id: str) -> tuple[int, int]:
        """(n, k): the item's number among the items asked of every unit, and 0 — or for a follow-up the number of
        its screening question and its place among that question's follow-ups (the loader keeps them together)."""
        number, follow = 0, 0
        for item in self.items:
            if item.relevant_item is None:
                number, follow = number + 1, 0
            else:
                follow += 1
            if item.id == item_id:
                return number, follow
        raise KeyError(item_id)

    def carried_over(self, answers: dict[str, str], notes: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """A stored report's answers under today's ids (a report corrected after a merge): a merged item's answer
        goes to its successor, the harsher one standing when both were answered, and its note with it."""
        answers, notes = dict(answers), dict(notes)
        for old in self.retired:
            if old.id not in answers:
                continue
            value, note = answers.pop(old.id), notes.pop(old.id, None)
            current = answers.get(old.into)
            if current is None or _SEVERITY.get(value, 0) > _SEVERITY.get(current, 0):
                answers[old.into] = value
                if note:
                    notes[old.into] = note
        return answers, notes

    def applicable(self, answers: dict[str, str]) -> list[ChecklistItem]:
        """Items to ask given the answers so far; an item whose condition is unanswered is not yet asked."""
        return [
            it for it in self.items if it.relevant_item is None or answers.get(it.relevant_item) == it.relevant_equals
        ]


@dataclass
class KnowledgeBase:
    entries: list[Entry]
    synonyms: SynonymsFile
    checklists: dict[str, Checklist]
    milestones: list[Milestone]
    targets: Targets
    plan_year: int
    phases: tuple[PhaseSpec, ...] = ()
    vocabulary: VocabularyFile | None = None  # the everyday words and their tests
    places: Places | None = None  # other counties and cities, declined (None: none declined)
    today_entry: str | None = None  # the entry whose answer is computed from today's date (plan.yaml today_entry)

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)
