"""BM25 over character uni- and bigrams with precomputed weights, as compact arrays (used by knowledge/search.py)."""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter, defaultdict

K1 = 1.2
B = 0.75
# A term in more than this share of the documents (and in more than MIN_DF_CAP) keeps only its MIN_DF_CAP heaviest
# postings.
MAX_DF_SHARE = 0.01
MIN_DF_CAP = 200


class Bm25:
    """An inverted index with precomputed BM25 weights: a query only multiplies and adds.

    Built incrementally (add, then finish) into compact arrays, so a large knowledge base never holds a Python
    object per posting.
    """

    def __init__(self, unigram_weight: float) -> None:
        self.unigram_weight = unigram_weight
        self._building: dict[str, tuple[array[int], array[float]]] = {}
        self._lengths = array("i")
        self.idf: dict[str, float] = {}
        self.postings: dict[str, tuple[array[int], array[float]]] = {}
        self.n_docs = 0
        self.df_cap = MIN_DF_CAP

    def add(self, grams: Counter[str]) -> None:
        doc = len(self._lengths)
        self._lengths.append(sum(grams.values()))
        for term, tf in grams.items():
            lists = self._building.get(term)
            if lists is None:
                lists = self._building[term] = (array("i"), array("f"))
            lists[0].append(doc)
            lists[1].append(tf)

    def finish(self) -> None:
        n_docs = self.n_docs = len(self._lengths)
        avg_len = (sum(self._lengths) / n_docs) if n_docs else 1.0
        norms = array("f", (K1 * (1 - B + B * length / avg_len) for length in self._lengths))
        for term, (docs, tfs) in self._building.items():
            df = len(docs)
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            self.idf[term] = idf
            scale = idf * (self.unigram_weight if len(term) == 1 else 1.0)
            for i, (doc, tf) in enumerate(zip(docs, tfs, strict=True)):
                tfs[i] = scale * tf * (K1 + 1) / (tf + norms[doc])  # the tf array becomes the weight array
            self.postings[term] = (docs, tfs)
        self._building = {}
        self._lengths = array("i")
        # A term in very many documents costs the most postings and, by its idf, barely changes the ranking: such
        # a term is read only through its HEAD heaviest postings (impact-ordered pruning), which bounds the work
        # per query term whatever the size of the knowledge base.
        self.df_cap = max(MIN_DF_CAP, int(MAX_DF_SHARE * n_docs))
        for term, (docs, weights) in self.postings.items():
            if len(docs) > self.df_cap:
                head = heapq.nlargest(MIN_DF_CAP, range(len(docs)), key=weights.__getitem__)
                self.postings[term] = (array("i", (docs[i] for i in head)), array("f", (weights[i] for i in head)))

    def scores(self, terms: Counter[str]) -> dict[int, float]:
        acc: dict[int, float] = defaultdict(float)
        for term, qtf in terms.items():
            posting = self.postings.get(term)
            if posting is not None:
                for doc, weight in zip(*posting, strict=True):
                    acc[doc] += weight * qtf
        return acc
