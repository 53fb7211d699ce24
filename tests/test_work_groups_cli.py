"""`shixiao groups add|list|remove` and `shixiao digest --scope S --push`, run as the county office runs them
(CliRunner; the push against the fake robots of tests/robot_fakes.py)."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.robot_fakes import FakeRobots

runner = CliRunner()
TOKEN = "a1b2c3d4e5f6" * 4 + "TK9Z"
SECRET = "SEC" + "7c" * 30 + "S3CZ"
KEY = "0a1b2c3d-4e5f-6789-abcd-ef01234K3YQ"
DINGTALK = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
WECOM = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'groups.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        "SHIXIAO_DATA_DIR": str(tmp_path / "data"),
        "SHIXIAO_ROBOTS_ALLOW_HTTP": "false",
    }


def invoke(args: list[str], env: dict[str, str]):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def test_groups_add_list_remove_with_masked_credentials(env):
    empty = invoke(["groups", "list"], env)
    assert empty.exit_code == 0 and "还没有登记工作群" in empty.output
    added = invoke(
        ["groups", "add", "--kind", "dingtalk", "--scope", "全县", "--webhook", DINGTALK, "--secret", SECRET]
        + ["--name", "县整规办钉钉群"],
        env,
    )
    assert added.exit_code == 0, added.output
    assert "已添加工作群“县整规办钉钉群”（钉钉 · " in added.output and "加签已设置" in added.output
    wecom = invoke(["groups", "add", "--kind", "WeCom", "--scope", "岩头镇", "--webhook", WECOM], env)
    assert wecom.exit_code == 0, wecom.output
    assert "已添加工作群“岩头镇企业微信工作群”（企业微信 · 岩头镇）" in wecom.output and "加签未设置" in wecom.output

    listed = invoke(["groups", "list"], env)
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("县整规办钉钉群", "钉钉", rows[0][2], "0"),
        ("岩头镇企业微信工作群", "企业微信", "岩头镇", "0"),
    ]
    assert rows[0][3] == "https://oapi.dingtalk.com/robot/send?…****TK9Z" and rows[0][4] == "****S3CZ"
    assert rows[1][3] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…****K3YQ" and rows[1][4] == "—"
    for shown in (added.output, wecom.output, listed.output):  # neither credential is ever printed whole
        assert TOKEN not in shown and SECRET not in shown and KEY not in shown
        assert TOKEN[:12] not in shown and SECRET[3:15] not in shown and KEY[:12] not in shown

    taken = invoke(["groups", "add", "--kind", "wecom", "--scope", "岩头镇", "--webhook", WECOM], env)
    assert taken.exit_code == 1 and "岩头镇企业微信工作群" in taken.stderr

    unknown = invoke(["groups", "remove", "不存在的群"], env)
    assert unknown.exit_code == 1 and "没有名为“不存在的群”的工作群" in unknown.stderr
    removed = invoke(["groups", "remove", "县整规办钉钉群"], env)
    assert removed.exit_code == 0 and "已删除工作群“县整规办钉钉群”" in removed.output
    assert [line.split("\t")[0] for line in invoke(["groups", "list"], env).stdout.splitlines()] == [
        "岩头镇企业微信工作群"
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--kind", "feishu", "--scope", "全县", "--webhook", DINGTALK], "dingtalk（钉钉）、wecom（企业微信）"),
        (["--kind", "dingtalk", "--scope", "全县", "--webhook", DINGTALK.replace("https", "http")], "必须以 https://"),
        (["--kind", "wecom", "--scope", "全县", "--webhook", WECOM, "--secret", SECRET], "企业微信"),
        (["--kind", "dingtalk", "--scope", "火星镇", "--webhook", DINGTALK], "火星镇"),
    ],
    ids=["unknown-kind", "not-https", "wecom-secret", "unknown-scope"],
)
def test_groups_add_refuses_bad_input_in_chinese_and_adds_nothing(env, args, said):
    refused = invoke(["groups", "add", *args], env)
    assert refused.exit_code == 1
    assert "错误：" in refused.stderr and said in refused.stderr and "Traceback" not in refused.output
    assert TOKEN not in refused.output and SECRET not in refused.output
    assert "还没有登记工作群" in invoke(["groups", "list"], env).output


def test_http_webhooks_are_taken_only_when_the_tests_setting_allows_them(env):
    plain = DINGTALK.replace("https", "http")
    assert invoke(["groups", "add", "--kind", "dingtalk", "--scope", "全县", "--webhook", plain], env).exit_code == 1
    allowed = invoke(
        ["groups", "add", "--kind", "dingtalk", "--scope", "全县", "--webhook", plain],
        {**env, "SHIXIAO_ROBOTS_ALLOW_HTTP": "true"},
    )
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.slow
async def test_digest_push_sends_the_scopes_digest_to_its_groups_now(env):
    async with FakeRobots() as robots:
        ding = robots.add("dingtalk", "pushding", SECRET)
        wecom = robots.add("wecom", "pushwecom")
        elsewhere = robots.add("wecom", "elsewhere")
        env = {**env, "SHIXIAO_ROBOTS_ALLOW_HTTP": "true"}

        def cli(*args: str):  # the CLI runs its own event loop: in a thread, beside the fake robots' server
            return asyncio.to_thread(invoke, list(args), env)

        for kind, robot, scope, secret in (
            ("dingtalk", ding, "岩头镇", ["--secret", SECRET]),
            ("wecom", wecom, "岩头镇", []),
            ("wecom", elsewhere, "桥下镇", []),
        ):
            added = await cli(
                "groups", "add", "--kind", kind, "--scope", scope, "--webhook", robots.webhook(robot), *secret
            )
            assert added.exit_code == 0, added.output

        nothing = await cli("digest", "--scope", "枫林镇", "--push")
        assert nothing.exit_code == 1 and "“枫林镇”还没有登记工作群" in nothing.stderr
        assert robots.requests == 0

        pushed = await cli("digest", "--scope", "岩头镇", "--push")
        assert pushed.exit_code == 0, pushed.output
        assert "周报已推送到2个工作群" in pushed.output and "未送达" not in pushed.output
        assert ding.refused == [] and wecom.refused == []  # signed right, within the limits
        assert ding.texts()[0].startswith("【十小通周报】岩头镇")
        assert "图表未附上" in ding.texts()[-1]  # no SHIXIAO_PUBLIC_MEDIA_URL here: the chart cannot be linked
        assert wecom.texts()[0].startswith("【十小通周报】岩头镇")
        assert wecom.accepted[-1]["msgtype"] == "image"  # the chart, base64 with its md5 (the fake checks it)
        assert elsewhere.accepted == []  # another township's group
        assert "送达" in pushed.output and f"送达{len(ding.accepted) + len(wecom.accepted)}条消息" in pushed.output
