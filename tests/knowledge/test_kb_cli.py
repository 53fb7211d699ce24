"""`shixiao ask` and `shixiao kb …` through a throwaway Typer app (the main CLI registers the same function)."""

from __future__ import annotations

import json

import pytest
import typer
from kb_support import HERE, copy_data, edit
from typer.testing import CliRunner

from bot.commands.knowledge import register

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_ask_prints_answer_and_source(app):
    result = runner.invoke(app, ["ask", "开饭店要办什么证"])
    assert result.exit_code == 0, result.output
    assert "餐饮服务许可证" in result.output and "来源：" in result.output


def test_ask_json(app):
    result = runner.invoke(app, ["ask", "--json", "六项规定动作是什么"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"answer", "source", "score", "abstained", "suggestions"} <= set(data)
    assert data["abstained"] is False and "动员会" in data["answer"] and "五、（五）" in data["source"]
    assert isinstance(data["suggestions"], list)


def test_ask_not_sure(app):
    result = runner.invoke(app, ["ask", "--json", "村里的快递驿站需要办理什么手续"])
    data = json.loads(result.stdout)
    assert data["abstained"] is True and data["answer"].startswith("不确定") and data["source"] is None
    human = runner.invoke(app, ["ask", "村里的快递驿站需要办理什么手续"])
    assert human.exit_code == 0 and "不确定" in human.output


def test_ask_off_topic(app):
    result = runner.invoke(app, ["ask", "--json", "今天天气怎么样"])
    data = json.loads(result.stdout)
    assert data["abstained"] is True and data["declined"] == "off_topic" and data["source"] is None
    assert "不在十小通的解答范围内" in data["answer"] and "永嘉县" in data["answer"]


def test_ask_from_stdin_one_json_per_line(app):
    lines = "开网吧要办什么证\n\n😀\n" + "长" * 10_000 + "\n食品安全法第28条\n"
    result = runner.invoke(app, ["ask"], input=lines)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["abstained"] is False and out[0]["entry_id"] == "net.licences"
    assert out[1]["abstained"] and out[2]["abstained"] and out[3]["abstained"]
    assert out[4]["entry_id"] == "fsl.art28"


@pytest.mark.slow
def test_kb_check_ok(app):
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output and "small_restaurant" in result.output


@pytest.mark.slow
def test_kb_check_strict_every_question_reaches_its_own_entry(app):
    """An answer that quoted another entry's question (名单可问“十小行业包括哪些”) took that question over."""
    result = runner.invoke(app, ["kb", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "提醒" not in result.output


def test_kb_check_names_file_and_entry(app, tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_hotel.yaml", "id: hotel.security", "id: common.exits")
    result = runner.invoke(app, ["kb", "check", "--data", str(data)])
    assert result.exit_code == 1
    assert "small_hotel.yaml" in result.output and "common.exits" in result.output
    assert "Traceback" not in result.output


def test_ask_with_broken_data_fails_cleanly(app, tmp_path):
    data = copy_data(tmp_path)
    (data / "plan.yaml").write_text("targets: [", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--data", str(data), "六项规定动作"])
    assert result.exit_code == 1 and "plan.yaml" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_kb_eval(app, tmp_path):
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "- {q: 开饭店要办什么证, expect: rest.licences}\n- {q: 今天天气怎么样, expect: null}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["kb", "eval", "--json", str(questions)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["top1"] == 1.0 and data["top3"] == 1.0 and data["abstention_out_of_scope"] == 1.0
    human = runner.invoke(app, ["kb", "eval", str(HERE / "questions.yaml")])
    assert human.exit_code == 0 and "top-1" in human.output and "拒答" in human.output


@pytest.mark.slow
def test_kb_eval_bad_files(app, tmp_path):
    missing = runner.invoke(app, ["kb", "eval", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "找不到" in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {q: 开饭店要办什么证}\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "eval", str(bad)])
    assert result.exit_code == 1 and "第1项" in result.output
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- {q: 开饭店要办什么证, expect: rest.nothing}\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "eval", str(unknown)])
    assert result.exit_code == 1 and "rest.nothing" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("- q: 开饭店要办什么证\n  expect: [rest.permit\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "eval", str(broken)])
    assert result.exit_code == 1 and "YAML 格式错误，第2行第11列：“[”没有配对的“]”" in result.output, result.output


def test_help_is_chinese(app):
    result = runner.invoke(app, ["kb", "--help"])
    assert result.exit_code == 0 and "知识库" in result.output
    assert "不确定" in runner.invoke(app, ["ask", "--help"]).output
