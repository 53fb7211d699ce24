"""Orderings of search hits that the answer applies before choosing: a narrow entry before a broad one, and the
milestones each plan entry is about (for countdowns)."""

from __future__ import annotations

from knowledge.models import Entry, Milestone
from knowledge.search import Hit

# A broad entry (a whole checklist, a topic's items) gives way to a narrow one at most this much less likely whose own
# questions cover more of the question: 染发膏要查什么 asks about the dyes, not the salon's 20-item checklist.
NARROW_MARGIN = 0.15
BROAD_SUFFIXES = (".standards", ".checklist")
BROAD_INFIXES = (".topic.",)
BY_ENTRY = 3  # feature: share of the question's bigrams found in the entry's questions


def broad(entry: Entry) -> bool:
    return entry.id.endswith(BROAD_SUFFIXES) or any(infix in entry.id for infix in BROAD_INFIXES)


def narrow_first(hits: list[Hit]) -> list[Hit]:
    """The hits, with a narrow entry put before a broad best hit when nearly as likely and closer in wording."""
    if len(hits) < 2 or not broad(hits[0].entry):
        return hits
    top = hits[0]
    for n, hit in enumerate(hits[1:], 1):
        if hit.score < top.score - NARROW_MARGIN:
            break
        if not broad(hit.entry) and hit.features[BY_ENTRY] > top.features[BY_ENTRY]:
            return [hit, *hits[:n], *hits[n + 1 :]]
    return hits


def milestones_by_entry(milestones: list[Milestone]) -> dict[str, list[Milestone]]:
    """The milestones each plan entry is about: plan.ms.<id> one, plan.date.mMMdDD those due that day."""
    by_entry: dict[str, list[Milestone]] = {}
    for m in milestones:
        by_entry[f"plan.ms.{m.id}"] = [m]
        day = "plan.date.year_end" if m.year_end else f"plan.date.m{m.month:02d}d{m.day:02d}"
        by_entry.setdefault(day, []).append(m)
    return by_entry
