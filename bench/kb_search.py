"""Knowledge-base search: latency, accuracy, index build time and memory, against a naive baseline.

Run: python bench/kb_search.py [--size 100000] [--repeat 20]

Two knowledge bases are measured in the same run:
- the shipped one (knowledge/data);
- the shipped one plus synthetic entries up to --size entries (questions built from county place names and
  everyday service topics, so common words such as 什么/怎么/要求 have long postings, as they would).
Queries are the question sets in tests/knowledge (questions.yaml and, when present, heldout.yaml, everyday.yaml and
dev4.yaml: the issue-16 styles, with long stories and two-part questions that take several searches each; dev4 was
written blind, so the sentence encoder is consulted on its unsure questions). The shipped knowledge base is measured
with the encoder and without it (仅字面); the large one without (its synthetic questions have no stored vectors).
The baseline is rapidfuzz `process.extractOne(query, all_questions, scorer=WRatio)`: it never abstains, so its
accuracy is top-1 on in-scope questions only. Latency is wall time per query, p50/p99 over all repeats; the CPU
time of the querying thread is shown beside it, since on a shared machine the wall-time tail mostly measures
other processes (the load average is printed).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz, process, utils
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.answer import Answerer  # noqa: E402
from knowledge.evaluate import Question, load_question_set  # noqa: E402
from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.models import Entry, KnowledgeBase  # noqa: E402

console = Console(width=170)
PLACES = (
    "上塘 瓯北 乌牛 桥头 桥下 沙头 岩头 枫林 岩坦 大若岩 碧莲 巽宅 西溪 徐岙 茗岙 昆阳 渠口 花坦 五尺 表山 鲤溪 "
    "鹤盛 东皋 西源 岭头 溪口 张溪 黄南 潘坑 溪下 山坑 应坑 大岙 石染 西岙 界坑 下寮 陡门 芙蓉 苍坡 港头 渡头 "
    "新岙 澄田 鱼仓 黄岗 石湖 邵园 金益 内档 外档 包岙 福田 江枫"
).split()
# Everyday county topics outside the 十小 campaign, chosen not to overlap the out-of-scope test questions (so
# those stay out of scope at 100k) nor the knowledge base's own vocabulary.
TOPIC_WORDS = (
    "水利 道路 农机 茶叶 杨梅 林权 渔船 河道 计生 殡葬 退役 救助 慈善 防汛 抗旱 森林 防火 地质 灾害 客运 "
    "公交 船舶 港口 码头 桥梁 隧道 水库 堤防 灌溉 流转 宅院 苗木 果园 蔬菜 粮食 收购 化肥 畜牧 渔业 林业 "
    "竹木 石材 矿产 排污 扬尘 绿化 文物 古村 图书 广播 电视 档案 统计 审计 信访 调解 援助 仲裁 助学 "
    "奖学 校车 气象 测绘 地名 方志 史志 民兵 人防 侨务 台务 民族 宗教 老龄 妇联 共青 工会 科协 侨联 "
    "残联 红会 粮仓 种子 蚕桑 香菇 笋干 索道 漂流 溪流 滩林 村道"
).split()
TEMPLATES = (
    "{p}{t}怎么办理",
    "{t}需要什么材料",
    "{p}的{t}归哪个部门管",
    "{t}什么时候截止",
    "{t}有什么要求",
    "办理{t}要多久",
    "{t}的标准是什么",
    "{p}{t}找谁",
    "{t}在哪里申请",
    "{p}{t}政策是什么",
)


def synthetic_entries(count: int, rng: random.Random) -> list[Entry]:
    entries = []
    today = date(2026, 1, 1)
    for n in range(count):
        place = rng.choice(PLACES)
        topic = "".join(rng.sample(TOPIC_WORDS, 2))
        questions = tuple(t.format(p=place, t=topic) for t in rng.sample(TEMPLATES, 3))
        answer = f"{place}{topic}的办理说明：请携带相关材料到{place}便民服务中心咨询办理，办理时限以窗口告知为准。"
        entries.append(Entry(f"syn.{n}", questions, answer, "合成数据", today, "synthetic"))
    return entries


def rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def timed_build(kb: KnowledgeBase, label: str, semantic: bool = True) -> tuple[Answerer, float, float]:
    gc.collect()
    before = rss_mb()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task(f"建索引（{label}）", total=len(kb.entries))
        start = time.perf_counter()
        answerer = Answerer(kb, progress=lambda n: bar.advance(task, n), semantic=semantic)
        seconds = time.perf_counter() - start
    gc.collect()
    return answerer, seconds, rss_mb() - before


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def run_ours(answerer: Answerer, questions: list[Question], repeat: int, label: str) -> dict[str, float]:
    latencies: list[float] = []
    cpu: list[float] = []
    top1 = abstain_out = n_in = n_out = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(f"本系统查询（{label}）", total=repeat * len(questions))
        for round_ in range(repeat):
            for q in questions:
                start, start_cpu = time.perf_counter(), time.thread_time()
                answer = answerer.answer(q.q)
                cpu.append(time.thread_time() - start_cpu)
                latencies.append(time.perf_counter() - start)
                if round_ == 0:
                    if q.expect is None:
                        n_out += 1
                        abstain_out += answer.abstained
                    else:
                        n_in += 1
                        top1 += not answer.abstained and q.answered_by(answer.parts)
                bar.advance(task)
    p50, p99 = percentiles(latencies)
    cpu50, cpu99 = percentiles(cpu)
    return {
        "p50": p50,
        "p99": p99,
        "cpu50": cpu50,
        "cpu99": cpu99,
        "top1": top1 / n_in,
        "abstain_out": abstain_out / max(1, n_out),
    }


def run_baseline(kb: KnowledgeBase, questions: list[Question], repeat: int, label: str) -> dict[str, float]:
    choices = [q for e in kb.entries for q in e.questions]
    owner = [e.id for e in kb.entries for _ in e.questions]
    latencies: list[float] = []
    cpu: list[float] = []
    top1 = n_in = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(f"基线查询（{label}）", total=repeat * len(questions))
        for round_ in range(repeat):
            for q in questions:
                start, start_cpu = time.perf_counter(), time.thread_time()
                best = process.extractOne(q.q, choices, scorer=fuzz.WRatio, processor=utils.default_process)
                cpu.append(time.thread_time() - start_cpu)
                latencies.append(time.perf_counter() - start)
                if round_ == 0 and q.expect is not None:
                    n_in += 1
                    top1 += best is not None and owner[best[2]] == q.expect
                bar.advance(task)
    p50, p99 = percentiles(latencies)
    cpu50, cpu99 = percentiles(cpu)
    return {"p50": p50, "p99": p99, "cpu50": cpu50, "cpu99": cpu99, "top1": top1 / n_in, "abstain_out": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="entries in the large knowledge base")
    parser.add_argument("--repeat", type=int, default=20, help="rounds over the question set (shipped size)")
    parser.add_argument("--baseline-repeat", type=int, default=1, help="rounds for the baseline at the large size")
    args = parser.parse_args()

    questions = []
    for name in ("questions.yaml", "heldout.yaml", "everyday.yaml", "dev4.yaml"):
        path = ROOT / "tests" / "knowledge" / name
        if path.is_file():
            questions += load_question_set(path)
    console.print(
        f"查询：{len(questions)} 个问题（{sum(q.expect is None for q in questions)} 个范围外）；"
        f"CPU {os.cpu_count()} 核，负载 {os.getloadavg()[0]:.1f}"
    )

    start = time.perf_counter()
    shipped = load_knowledge()
    load_seconds = time.perf_counter() - start
    small, small_build, small_mem = timed_build(shipped, f"随附 {len(shipped.entries)} 条")
    rows = [
        (
            "随附",
            len(shipped.entries),
            small_build,
            small_mem,
            run_ours(small, questions, args.repeat, "随附"),
            run_baseline(shipped, questions, args.repeat, "随附"),
        )
    ]
    # The same knowledge base without the sentence encoder (knowledge/semantic.py), which is consulted only when
    # the characters are unsure: its cost shows in the tail.
    chars, chars_build, chars_mem = timed_build(shipped, "随附，仅字面", semantic=False)
    rows.append(
        (
            "随附（仅字面）",
            len(shipped.entries),
            chars_build,
            chars_mem,
            run_ours(chars, questions, args.repeat, "仅字面"),
            rows[0][5],
        )
    )

    extra = synthetic_entries(max(0, args.size - len(shipped.entries)), random.Random(2009))
    large_kb = KnowledgeBase(
        [*shipped.entries, *extra],
        shipped.synonyms,
        shipped.checklists,
        shipped.milestones,
        shipped.targets,
        shipped.plan_year,
    )
    # Without the encoder: the synthetic questions have no stored vectors, and embedding 100,000 of them would take
    # an hour; at this size the character search is what is measured.
    large, large_build, large_mem = timed_build(large_kb, f"{len(large_kb.entries)} 条", semantic=False)
    rows.append(
        (
            f"{len(large_kb.entries)} 条",
            len(large_kb.entries),
            large_build,
            large_mem,
            run_ours(large, questions, max(1, args.repeat // 4), "大"),
            run_baseline(large_kb, questions, args.baseline_repeat, "大"),
        )
    )

    table = Table(title=f"知识库检索（载入并校验随附数据 {load_seconds:.2f} s）")
    for column in (
        "知识库",
        "建索引 s",
        "内存 MB",
        "本系统 p50/p99 ms",
        "(CPU)",
        "基线 p50/p99 ms",
        "(CPU)",
        "p50 倍数",
        "p99 倍数",
        "本系统 top-1",
        "基线 top-1",
        "本系统范围外拒答",
    ):
        table.add_column(column)
    for label, _, build, mem, ours, base in rows:
        table.add_row(
            label,
            f"{build:.2f}",
            f"{mem:.0f}",
            f"{ours['p50']:.2f} / {ours['p99']:.2f}",
            f"{ours['cpu50']:.2f} / {ours['cpu99']:.2f}",
            f"{base['p50']:.2f} / {base['p99']:.2f}",
            f"{base['cpu50']:.2f} / {base['cpu99']:.2f}",
            f"{base['p50'] / ours['p50']:.0f}×",
            f"{base['p99'] / ours['p99']:.0f}×",
            f"{ours['top1']:.1%}",
            f"{base['top1']:.1%}",
            f"{ours['abstain_out']:.1%}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
