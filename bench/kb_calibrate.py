"""Fit the knowledge-base score calibration (the WEIGHTS and BIAS in knowledge/search.py).

Run: python bench/kb_calibrate.py [QUESTIONS.yaml ...] — prints the fitted constants and how well they separate
on the fitting data.

Fitting data:
- the development question set (tests/knowledge/questions.yaml by default; never tests/knowledge/heldout.yaml,
  which stays an honest check);
- in scope: every question of every entry, asked while that question is hidden from the index (leave one out), once
  as written and once with typing noise (a greeting in front, a character dropped or doubled);
- out of scope: bench/kb_negatives.yaml, plus near misses made by putting an unrelated trade in place of the
  industry word of knowledge-base questions ("开加油站要办什么证"), and by putting a key term in front of an
  unrelated question ("未成年人感冒了吃什么药好").
A logistic regression over all candidates gives the weights (with their signs kept, see SIGNS; those in FIXED are
set, not fitted); the decision cut chosen in main() (a wrong answer costs WRONG_COST right ones) is then moved to
0.5 by shifting the bias, so that 0.5 means "answer". Fitted values vary in the third decimal between runs (set
iteration order follows Python's hash seed) and with every change of the data; knowledge/search.py keeps the values
the held-out set was measured with.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.answer import Answerer
from knowledge.evaluate import load_question_set
from knowledge.loader import load_knowledge
from knowledge.search import SearchIndex

HERE = Path(__file__).resolve().parent
DEV_SET = HERE.parent / "tests" / "knowledge" / "questions.yaml"  # never the held-out sets
EVERYDAY_SET = HERE.parent / "tests" / "knowledge" / "everyday.yaml"
INDUSTRY_WORDS = ("餐饮店", "食杂店", "作坊", "美容美发店", "浴室", "旅馆", "歌舞厅", "网吧", "诊所", "药店")
PREFIXES = ("请问", "你好，", "老板问一下", "想问下", "麻烦问问", "同志，", "")
SUFFIXES = ("？", "啊", "谢谢", "呢", "", "??")
K = 10
NEGATIVES_FLOOR = 0.9
WRONG_COST = 3.0  # a wrong answer is worse than 不确定: see utility()


def noisy(text: str, rng: random.Random) -> str:
    chars = list(text)
    if len(chars) > 4:
        i = rng.randrange(1, len(chars) - 1)
        if rng.random() < 0.5:
            del chars[i]
        else:
            chars.insert(i, chars[i])
    return rng.choice(PREFIXES) + "".join(chars) + rng.choice(SUFFIXES)


# Questions told as stories: a knowledge-base question (or an unrelated one) inside what an owner says around it.
STORY_BEFORE = (
    "我在村里开了个店，前几天有人来检查，",
    "我家开店好几年了，最近听说要整规，",
    "昨天村干部来了一趟，说了一些要求，我想问问，",
    "我是做小生意的，对这些规定不太懂，",
    "镇上搞整治，通知我们整改，",
    "邻居跟我说现在查得严，",
    "我刚接手这个店，",
)
STORY_AFTER = ("，这个到底怎么回事", "，麻烦告诉我一下", "，我这样做对吗", "，谢谢了", "，不然怕被罚", "")


def story(text: str, rng: random.Random) -> str:
    return rng.choice(STORY_BEFORE) + text + rng.choice(STORY_AFTER)


def build_samples(index: SearchIndex, negatives: dict, rng: random.Random, question_sets=()):
    samples = []  # (query, expected entry id or None, hits, group: "set" | "loo" | "neg")
    for path in question_sets:
        for item in load_question_set(path):
            if len(item.parts) > 1 or item.elsewhere:
                continue  # answered by parts or declined before any search: nothing for the scores to learn
            samples.append((item.q, item.expect, index.search(item.q, k=K), "set"))
    for doc, question in enumerate(index.doc_question):
        expect = index.entries[index.doc_entry[doc]].id
        for query in (question, noisy(question, rng), story(question, rng)):
            samples.append((query, expect, index.search(query, k=K, exclude=doc), "loo"))
    for query in negatives["questions"]:
        samples.append((query, None, index.search(query, k=K), "neg"))
        query = story(query, rng)
        samples.append((query, None, index.search(query, k=K), "neg"))
    # Near misses of a second kind: a word the knowledge base knows well (未成年人, 营业执照, a trade) before an
    # unrelated question ("未成年人感冒了吃什么药好"): the key term matches, what is asked about it does not.
    key_terms = sorted(index.normalize.key_terms)
    for query in negatives["questions"]:
        query = rng.choice(key_terms) + query
        samples.append((query, None, index.search(query, k=K), "neg"))
    trades = negatives["trades"]
    for text in index.doc_text:
        for word in INDUSTRY_WORDS:
            if word in text:
                query = text.replace(word, rng.choice(trades))
                samples.append((query, None, index.search(query, k=K), "neg"))
                break
    return samples


# The first five features are evidence for the entry, the others against it (a key term of the question missing from
# the query, the share of query characters the knowledge base never uses, a business the knowledge base does not
# cover, a trade of the query that is not the entry's, a key term of the query the entry never names, nothing asked
# beyond key terms found in the entry): weights are kept to these signs so that a better match can never lower a
# score.
SIGNS = (1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, 1)
# Weights set rather than fitted. no_content (nothing the query asks beyond key terms and question words is in the
# entry): the leave-one-out questions, most of the fitting data, often use a word no other question of their entry
# uses, so the fit gives it little weight (about -1); in real questions it mostly marks an unrelated question that
# shares a key term ("孩子发烧了怎么办" against "学生来买烟怎么办"), which must not be answered. At -4 such a match
# stays below the threshold (tests/knowledge/test_kb_answer.py).
FIXED = {6: -5.624, 7: -1.981, 10: -4.0, 11: -0.7}


def fit_monotone(rows: list[tuple[list[float], float]], signs: tuple[int, ...] = SIGNS) -> list[float]:
    """Logistic regression whose weights keep the given signs: a feature that wants the wrong sign is dropped.

    Features in FIXED keep the weight given there (their term is an offset of the fit)."""
    active = [i for i in range(len(signs)) if i not in FIXED]
    offsets = [sum(w * x[i] for i, w in FIXED.items()) for x, _ in rows]
    while True:
        fitted = fit_logistic([([x[i] for i in active] + [x[-1]], y) for x, y in rows], offsets=offsets)
        wrong = [i for i, w in zip(active, fitted, strict=False) if w * signs[i] < 0]
        if not wrong:
            weights = [0.0] * len(signs)
            for i, w in zip(active, fitted, strict=False):
                weights[i] = w
            for i, w in FIXED.items():
                weights[i] = w
            return [*weights, fitted[-1]]
        active = [i for i in active if i not in wrong]


def fit_logistic(
    rows: list[tuple[list[float], float]], l2: float = 0.1, rounds: int = 30, offsets: list[float] | None = None
) -> list[float]:
    """Newton-Raphson (IRLS) on a handful of features; small enough not to need numpy."""
    n = len(rows[0][0])
    w = [0.0] * n
    offsets = offsets or [0.0] * len(rows)
    for _ in range(rounds):
        grad = [0.0] * n
        hess = [[0.0] * n for _ in range(n)]
        for (x, y), o in zip(rows, offsets, strict=True):
            p = 1.0 / (1.0 + math.exp(-(o + sum(a * b for a, b in zip(w, x, strict=True)))))
            for i in range(n):
                grad[i] += (p - y) * x[i]
                for j in range(n):
                    hess[i][j] += p * (1 - p) * x[i] * x[j]
        for i in range(n - 1):  # the last column is the bias: not penalised
            grad[i] += l2 * w[i]
            hess[i][i] += l2
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step, strict=True)]
    return w


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        pivot = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[pivot] = m[pivot], m[c]
        for r in range(n):
            if r != c and m[c][c]:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if m[i][i] else 0.0 for i in range(n)]


def decisions(samples, weights, bias):
    """Per sample: (expected, best id, best linear score)."""
    out = []
    for _, expect, hits, *_ in samples:
        best = max(
            ((bias + sum(w * f for w, f in zip(weights, h.features, strict=True)), h.entry.id) for h in hits),
            default=(-math.inf, None),
        )
        out.append((expect, best[1], best[0]))
    return out


def rates(decided, cut):
    pos = [(e, b, z) for e, b, z in decided if e is not None]
    neg = [(e, b, z) for e, b, z in decided if e is None]
    top1 = sum(1 for e, b, z in pos if z >= cut and b == e) / max(1, len(pos))
    abstain = sum(1 for _, _, z in neg if z < cut) / max(1, len(neg))
    return top1, abstain


def utility(decided, cut):
    """+1 per right answer and per abstention on an out-of-scope question, 0 per abstention on an in-scope one,
    -WRONG_COST per wrong answer (another entry, or any answer to an out-of-scope question)."""
    total = 0.0
    for expect, best, z in decided:
        if z < cut:
            total += expect is None
        else:
            total += 1.0 if best == expect else -WRONG_COST
    return total


def main() -> None:
    rng = random.Random(20090409)
    index = Answerer(load_knowledge()).index
    negatives = yaml.safe_load((HERE / "kb_negatives.yaml").read_text(encoding="utf-8"))
    samples = build_samples(index, negatives, rng, sys.argv[1:] or [DEV_SET, EVERYDAY_SET])
    rows = [
        (list(h.features) + [1.0], 1.0 if h.entry.id == expect else 0.0) for _, expect, hits, _ in samples for h in hits
    ]
    fitted = fit_monotone(rows)
    weights, bias = fitted[:-1], fitted[-1]
    # The cut maximises the utility on the question set (a wrong answer costs WRONG_COST right ones: 不确定 is
    # forwarded to the county office, a confident wrong answer misleads), among cuts that still abstain on at
    # least NEGATIVES_FLOOR of the negatives; the leave-one-out questions, harder than real ones, only help fit
    # the weights. The cut is then folded into the bias so that 0.5 is the threshold.
    question_set = decisions([s for s in samples if s[3] == "set"], weights, bias)
    negatives_only = decisions([s for s in samples if s[3] == "neg"], weights, bias)

    def balance(cut: float) -> tuple[bool, float, float]:
        top1, abstain = rates(question_set, cut)
        return rates(negatives_only, cut)[1] >= NEGATIVES_FLOOR, utility(question_set, cut), min(top1, abstain)

    cut = max((x / 20 for x in range(-100, 101)), key=balance)
    bias -= cut
    top1, abstain = rates(question_set, cut)
    loo_top1, _ = rates(decisions([s for s in samples if s[3] == "loo"], weights, bias), 0.0)
    neg_abstain = rates(negatives_only, cut)[1]
    n_pos = sum(1 for s in samples if s[1] is not None)
    print(f"samples: {n_pos} in scope, {len(samples) - n_pos} out of scope")
    print(
        f"at threshold 0.5: question set top-1 {top1:.3f}, out-of-scope abstention {abstain:.3f}; "
        f"negatives abstention {neg_abstain:.3f}; leave-one-out top-1 {loo_top1:.3f}"
    )
    print("WEIGHTS = (" + ", ".join(f"{w:.3f}" for w in weights) + ")")
    print(f"BIAS = {bias:.3f}")


if __name__ == "__main__":
    main()
