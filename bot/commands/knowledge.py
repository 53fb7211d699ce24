"""`shixiao ask` and `shixiao kb check|eval`: the knowledge base from the command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, progress
from knowledge.loader import DATA_DIR, load_knowledge
from knowledge.models import KnowledgeBase, KnowledgeError
from storage.clock import SystemClock

if TYPE_CHECKING:  # the answerer (search index, pypinyin) only for the commands that answer: not for `shixiao run`
    from knowledge.answer import Answer, Answerer

DATA_HELP = "知识库目录（默认为随程序提供的 knowledge/data）"

kb_app = ChineseTyper(help="知识库维护：校验数据、评测问答准确率。", no_args_is_help=True)


def _today(on: str | None) -> date:
    """The date answers depend on: --date, or today in the configured time zone."""
    if on is not None:
        try:
            return date.fromisoformat(on)
        except ValueError:
            fail(f"日期格式不对：{on}（应为 YYYY-MM-DD，例如 2026-12-09）")
    return SystemClock(load_settings().tz).now().date()


DATE_HELP = "按这一天回答与日期有关的问题（YYYY-MM-DD，默认今天）"


def _answerer(data: Path | None) -> Answerer:
    from knowledge.answer import Answerer

    try:
        return Answerer(data_dir=data)
    except KnowledgeError as error:
        fail(f"知识库数据有误：\n{error}")


def _print_answer(answer: Answer) -> None:
    console.print(answer.answer, highlight=False, markup=False)
    if answer.source:
        console.print(f"来源：{answer.source}", highlight=False, markup=False)
    if answer.suggestions:
        console.print("相近的问题：" if answer.abstained else "您是想问：", highlight=False)
        for s in answer.suggestions:
            console.print(f"  · {s['question']}（{s['id']}）", highlight=False, markup=False)
    console.print(f"[dim]匹配度 {answer.score:.2f}[/]", highlight=False)


def ask(
    question: str | None = typer.Argument(None, help="要问的问题；不填则从标准输入逐行读取，每行输出一个 JSON"),
    as_json: bool = typer.Option(
        False, "--json", help="输出一个 JSON 对象：answer、source、score、abstained、suggestions、entry_id"
    ),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP, file_okay=False),
    on: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """向知识库提问：给出答案和出处，没有把握时回答“不确定”。"""
    today = _today(on)
    answerer = _answerer(data)
    if question is None:
        # One JSON object per input line, so a file of questions maps line for line onto the output.
        # Bytes decoded leniently: a stray invalid byte must not stop a batch.
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            typer.echo(json.dumps(answerer.answer(line, today=today).to_dict(), ensure_ascii=False))
        return
    answer = answerer.answer(question, today=today)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        _print_answer(answer)


def _self_check(kb: KnowledgeBase, answerer: Answerer) -> list[str]:
    """Questions of an entry that the answerer gives to another entry: worth rewording (warnings, not errors)."""
    notes = []
    with progress() as bar:
        task = bar.add_task("检查问法", total=sum(len(entry.questions) for entry in kb.entries))
        for entry in kb.entries:
            for question in entry.questions:
                answer = answerer.answer(question)
                if not answer.abstained and answer.entry_id != entry.id:
                    notes.append(f"{entry.file}：条目 {entry.id} 的问法“{question}”被答成了 {answer.entry_id}")
                bar.advance(task)
    return notes


@kb_app.command("check")
def check(
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP, file_okay=False),
    strict: bool = typer.Option(False, "--strict", help="有提醒（问法被答成别的条目）也按失败退出"),
) -> None:
    """校验知识库全部数据（出错时指明文件和条目），并检查每个问法能否答到自己的条目。"""
    try:
        kb = load_knowledge(data)
    except KnowledgeError as error:
        fail(f"知识库数据有误：\n{error}")
    from knowledge.answer import Answerer

    answerer = Answerer(kb)
    by_file = Counter(entry.file for entry in kb.entries)
    questions = sum(len(entry.questions) for entry in kb.entries)
    console.print(f"知识库：{data or DATA_DIR}", highlight=False)
    for name, count in sorted(by_file.items()):
        console.print(f"  {name}：{count} 条", highlight=False)
    console.print(f"共 {len(kb.entries)} 条、{questions} 个问法；时间节点 {len(kb.milestones)} 个。", highlight=False)
    for slug, checklist in kb.checklists.items():
        vetoes = sum(item.veto for item in checklist.items)
        console.print(
            f"  检查表 {slug}（{checklist.name}）：{len(checklist.items)} 项，其中一票否决 {vetoes} 项", highlight=False
        )
    notes = _self_check(kb, answerer)
    for note in notes:
        console.print(f"[yellow]提醒：[/]{note}", highlight=False)
    if notes and strict:
        fail(f"{len(notes)} 个问法没有答到自己的条目")
    console.print("[green]校验通过。[/]" + (f"（{len(notes)} 条提醒）" if notes else ""), highlight=False)


@kb_app.command("eval")
def eval_command(
    file: Path = typer.Argument(
        ..., help="问题集 YAML：列表，每项 {q: 问题, expect: 条目id 或 null（范围外）}", exists=False
    ),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP, file_okay=False),
    as_json: bool = typer.Option(False, "--json", help="以一个 JSON 对象输出各项指标"),
    show_misses: bool = typer.Option(False, "--misses", help="列出答错或误拒的问题"),
    on: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """评测问题集：输出 top-1、top-3 准确率和“不确定”（拒答）比例，并按行业、按主题分列。"""
    from knowledge.evaluate import DECLINED_PLACE, OUT_OF_SCOPE, evaluate, load_question_set

    if not file.is_file():
        fail(f"找不到问题集文件：{file}")
    today = _today(on)
    answerer = _answerer(data)
    try:
        questions = load_question_set(file)
        with progress() as bar:
            task = bar.add_task("评测中", total=len(questions))
            result = evaluate(answerer, questions, lambda: bar.advance(task), today=today)
    except KnowledgeError as error:
        fail(str(error))
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        console.print(
            f"问题 {result.in_scope + result.out_of_scope} 个：范围内 {result.in_scope}，范围外 {result.out_of_scope}",
            highlight=False,
        )
        console.print(
            f"top-1 准确率 {result.top1:.1%}（答对且未拒答）；top-3 准确率 {result.top3:.1%}", highlight=False
        )
        console.print(
            f"拒答率 {result.abstention:.1%}：范围外问题拒答 {result.abstention_out:.1%}，"
            f"范围内问题误拒 {result.abstention_in:.1%}；范围内答错 {result.wrong_in} 个",
            highlight=False,
        )
        if result.elsewhere:
            console.print(
                f"外地问题 {result.elsewhere} 个，说明本县并拒答 {result.elsewhere_named} 个", highlight=False
            )
        for title, tallies in (("按行业", result.by_industry), ("按主题", result.by_topic)):
            table = Table(title=title)
            for column in ("", "问题数", "答对", "答对率", "不确定", "答错"):
                table.add_column(column)
            for name, t in sorted(tallies.items(), key=lambda kv: -kv[1].total):
                wrong = t.total - t.right - t.not_sure if name not in (OUT_OF_SCOPE, DECLINED_PLACE) else 0
                table.add_row(
                    name, str(t.total), str(t.right), f"{t.right / t.total:.1%}", str(t.not_sure), str(max(0, wrong))
                )
            console.print(table)
    if show_misses:
        for miss in result.misses:
            console.print(
                f"  ✗ {miss['q']}  期望 {miss['expect']}  得到 {miss['got']}（{miss['score']}）",
                highlight=False,
                markup=False,
            )


def register(app: typer.Typer) -> None:
    """Add `ask` and the `kb` group to the main CLI."""
    app.command("ask")(ask)
    app.add_typer(kb_app, name="kb")
