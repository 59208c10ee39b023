"""Weekly digests, the ledger export and riders' points, on a seeded history with a set clock.

The history (local time, Asia/Shanghai):
- W46, Mon 9 Nov 10:00: #1 东关 fire by rider A; accepted, resolved after 1 h, confirmed.
- W47, Mon 16 Nov 10:00: #2 东关 fire by A (resolved after 2 h, confirmed),
  #3 西关 public order by B (rejected as not a hazard after 3 h),
  #4 东关 sanitation by A (72 h, never handled: overdue from Thu 19 Nov 10:00).
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import DIGEST_JOB, schedule_digest
from bot.cli import main as cli
from bot.reporting.digest import parse_week
from bot.reporting.ledger_files import read_xlsx
from storage.tables import digests_sent
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, ROOT, Stage, start_app, stop_app
from tests.fake_telegram import Person
from tests.test_casework import accept, card_of, reported, resolve, staff_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def seed(stage: Stage) -> tuple[Person, Person]:
    stage.clock.current = local(2026, 11, 9, 10, 0)
    a = await reported(stage, name="骑手甲")
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang, ticket=1)
    stage.clock.advance(hours=1)
    await resolve(stage, zhang, "已清理", ticket=1)
    await stage.send(a.press(a.last_bot_message(), "✅ 已解决"))

    stage.clock.current = local(2026, 11, 16, 10, 0)
    from tests.test_rider_intake import report_quickly

    await report_quickly(stage, a, point=IN_DONGGUAN, category="🔥 消防安全")
    b = await reported(stage, point=IN_XIGUAN, category="🚨 社会治安", name="骑手乙")
    await report_quickly(stage, a, point=IN_DONGGUAN, category="🧹 环境卫生")
    await accept(stage, zhang, ticket=2)
    stage.clock.advance(hours=2)
    await resolve(stage, zhang, "已疏通消防通道", ticket=2)
    await stage.send(a.press(a.last_bot_message(), "✅ 已解决"))
    stage.clock.advance(hours=1)
    west = staff_of(stage, "xiguan", "赵六")
    await stage.send(west.press(card_of(stage, "xiguan", 3), "⛔ 驳回"))
    await stage.send(west.press(card_of(stage, "xiguan", 3), "不属于隐患"))
    return a, b


async def sent_weeks(stage: Stage) -> list[tuple[str, str]]:
    async with stage.services.db.transaction() as conn:
        rows = await conn.execute(select(digests_sent.c.week, digests_sent.c.target))
        return sorted(rows.all())


async def test_weekly_digest_content_and_never_twice(stage: Stage) -> None:
    await seed(stage)
    stage.clock.current = local(2026, 11, 23, 9, 0)  # the scheduled moment
    sent = await stage.services.digests.send_due()
    await stage.delivered()
    assert sent == ["dongguan", "xiguan", "nanjie", "fire_station", "_sup"]

    dongguan = stage.chat_messages("dongguan")[-1]["text"].split("\n")
    assert dongguan == [
        "📅 东关社区 · 2026-W47 周报（11月16日–11月22日）",
        "收到 2 件（上周 1，+1）· 应结案 2 件 = 已办结 1 + 超期未结 1",
        "办结率 50.0%（较上周 -50 个百分点）· 按期办结率 50.0%",
        "办结用时中位数 2.0小时 · 返工 0 次",
        "仍未办结 1 件：#4",
        "⚠️ 其中超期 1 件：#4",
    ]
    xiguan = stage.chat_messages("xiguan")[-1]["text"]
    assert "办结率 100%（上周无可比数据）" in xiguan and "本周末没有未办结的工单" in xiguan

    county = stage.chat_messages("supervisors")
    text = county[-2]["text"].split("\n")
    assert text[0] == "📅 全县随手反馈 · 2026-W47 周报（11月16日–11月22日）"
    assert text[1] == "1. 西关社区：办结率 100%（1/1）· 按期 100% · 收到 1"
    assert text[2] == "2. 东关社区：办结率 50.0%（1/2）· 按期 50.0% · 收到 2"
    total = "合计：收到 3（上周 1）· 应结案 3 = 已办结 2 + 超期未结 1 · 办结率 66.7%"
    assert total in county[-2]["text"]
    assert "⚠️ 超期未办结 1 件：#4（东关社区）" in county[-2]["text"]
    # Riders with no points this week are not on the board; one who never chose a display
    # name in 报到 is anonymous there, as on the card (their Telegram name stays theirs).
    assert text[-2:] == ["🏅 本周最活跃骑手：", "1. 骑手 #0001 · 5 分（2 件）"]
    assert "骑手甲" not in county[-2]["text"]

    chart = county[-1]
    assert chart["caption"].startswith("📈") and "photo" in chart
    upload = stage.tg.calls_to("sendPhoto")[-1]
    assert upload.params["chat_id"] == stage.chats["supervisors"]
    week = stage.services.digests.build
    png = (await week(parse_week("2026-W47", SHANGHAI)))[-1].chart
    assert png is not None and png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size[0] >= 800

    # The same week never goes out twice: not at the next run, not after a restart.
    before = len(stage.chat_messages("supervisors"))
    assert await stage.services.digests.send_due() == []
    stage.clock.advance(days=2)
    assert await stage.services.digests.send_due() == []
    assert len(stage.chat_messages("supervisors")) == before
    assert len(await sent_weeks(stage)) == 5


async def test_a_digest_missed_while_down_goes_out_on_start(stage: Stage) -> None:
    await seed(stage)
    stage.clock.current = local(2026, 11, 23, 8, 0)  # before this Monday's moment:
    assert len(await stage.services.digests.send_due()) == 5  # last Monday's week, W46
    assert {week for week, _ in await sent_weeks(stage)} == {"2026-W46"}
    await stop_app(stage.app)
    stage.clock.current = local(2026, 11, 23, 11, 30)  # the bot was down at 09:00
    stage.app = await start_app(stage.config, stage.tg, stage.clock)
    await stage.delivered()  # put in the outbox on start; the worker delivers it
    assert ("2026-W47", "_sup") in await sent_weeks(stage)
    await stage.delivered()  # the outbox's worker delivers beside the start
    assert "2026-W47 周报" in stage.chat_messages("dongguan")[-1]["text"]
    await stop_app(stage.app)
    stage.app = await start_app(stage.config, stage.tg, stage.clock)  # and not again
    assert len(await sent_weeks(stage)) == 10


async def test_no_digest_before_anything_happened(stage: Stage) -> None:
    stage.clock.current = local(2026, 11, 23, 9, 0)
    assert await stage.services.digests.send_due() == []
    assert stage.chat_messages("supervisors") == []


async def test_the_job_is_scheduled_once_on_the_configured_local_time(stage: Stage) -> None:
    services = stage.services
    schedule_digest(stage.app, services)  # a second start must not add a second job
    jobs = stage.app.job_queue.get_jobs_by_name(DIGEST_JOB)
    assert len(jobs) == 1
    trigger = jobs[0].job.trigger
    sunday_noon = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, sunday_noon) == local(2026, 11, 23, 9, 0)
    assert str(trigger.timezone) == "Asia/Shanghai"


async def test_digest_on_demand(stage: Stage) -> None:
    await seed(stage)
    stage.clock.current = local(2026, 11, 24, 15, 0)
    boss = staff_of(stage, "supervisors", "王主任")
    await stage.send(boss.command("/digest", chat=stage.tg.chat(stage.chats["supervisors"])))
    await stage.until(lambda: "photo" in stage.chat_messages("supervisors")[-1])
    replies = stage.chat_messages("supervisors")[-2:]
    assert "2026-W47 周报" in replies[0]["text"] and "photo" in replies[1]
    assert await sent_weeks(stage) == []  # on demand is not the scheduled send


async def test_ledger_export_round_trip(stage: Stage) -> None:
    await seed(stage)
    stage.clock.current = local(2026, 11, 24, 15, 0)
    boss = staff_of(stage, "supervisors", "王主任")
    chat = stage.tg.chat(stage.chats["supervisors"])
    await stage.send(boss.command("/export 2026-11-01 2026-11-30", chat=chat))
    await stage.until(lambda: "document" in stage.chat_messages("supervisors")[-1])
    progress, document = stage.chat_messages("supervisors")[-2:]
    assert progress["text"] == "⏳ 正在导出 4 条工单（2026-11-01 至 2026-11-30）…"
    assert document["document"]["file_name"] == "suishou-ledger-2026-11-01-2026-11-30.xlsx"
    assert "共 4 条" in document["caption"]
    status, data = stage.tg.download(stage.tg.file_path(document["document"]["file_id"]))
    assert status == 200
    book = read_xlsx(data)
    reports_sheet, summary = book["工单台账"], book["社区统计"]
    header = reports_sheet[0]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in reports_sheet[1:]}
    assert sorted(rows) == [1, 2, 3, 4]
    assert rows[2]["社区"] == "东关社区" and rows[2]["类别"] == "消防安全"
    assert rows[2]["上报时间"] == datetime(2026, 11, 16, 10, 0)
    assert rows[2]["办结时间"] == datetime(2026, 11, 16, 12, 0)
    assert rows[2]["结案方式"] == "骑手确认已解决" and rows[2]["是否按期"] is True
    assert rows[2]["受理人"] == "张三" and rows[1]["备注"] == "消防通道堵塞"
    assert rows[3]["状态"] == "已驳回" and rows[3]["结案方式"] == "不属于隐患"
    assert rows[4]["状态"] == "待受理" and rows[4]["是否按期"] is False  # open and overdue
    by_name = {r[0]: dict(zip(summary[0], r, strict=True)) for r in summary[1:]}
    assert by_name["东关社区"]["收到"] == 3 and by_name["西关社区"]["驳回"] == 1

    west = staff_of(stage, "xiguan", "赵六")
    await stage.send(west.command("/export", chat=stage.tg.chat(stage.chats["xiguan"])))
    await stage.until(
        lambda: stage.chat_messages("xiguan")[-1]["text"] == "台账只能在县中心群导出。"
    )
    await stage.send(boss.command("/export 2026-13-01", chat=chat))
    await stage.until(
        lambda: stage.chat_messages("supervisors")[-1].get("text", "").startswith("用法：/export")
    )


def config_file(stage: Stage, tmp_path: Path) -> Path:
    """The example configuration pointed at this test's database."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    db = stage.config.database_url
    text = text.replace(
        'database_url = "sqlite+aiosqlite:///data/suishou.db"', f'database_url = "{db}"'
    )
    path = tmp_path / "cli.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_command_line_digest_and_export(
    stage: Stage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(stage)
    path = config_file(stage, tmp_path)
    import asyncio

    code = await asyncio.to_thread(
        cli, ["digest", "--config", str(path), "--week", "2026-W47", "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "== dongguan → chat -1001000000001 ==" in out
    assert "办结率 50.0%（较上周 -50 个百分点）" in out and "<b>" not in out
    assert "[chart: PNG" in out

    for suffix in ("csv", "xlsx"):
        target = tmp_path / f"ledger.{suffix}"
        code = await asyncio.to_thread(
            cli,
            [
                "export",
                "--config",
                str(path),
                "--from",
                "2026-11-16",
                "--to",
                "2026-11-22",
                "--out",
                str(target),
            ],
        )
        assert code == 0 and "3 report(s)" in capsys.readouterr().out
    csv_text = (tmp_path / "ledger.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("工单号,社区,类别")
    assert len(csv_text.strip().splitlines()) == 4
    assert sorted(read_xlsx(tmp_path / "ledger.xlsx")) == ["工单台账", "社区统计"]


async def test_points_and_me(stage: Stage) -> None:
    a, b = await seed(stage)
    stage.clock.current = local(2026, 11, 24, 15, 0)
    await stage.send(a.command("/me"))
    assert a.last_bot_message()["text"] == (
        "骑手甲，本月你上报了 3 件（已受理 2，已解决 2）。\n积分 10 分，排名第 1 / 2。"
    )
    await stage.send(b.command("/me"))
    assert "积分 0 分，排名第 2 / 2" in b.last_bot_message()["text"]
    stage.clock.current = local(2026, 12, 2, 9, 0)
    await stage.send(b.command("/me"))
    assert "本月你还没有上报" in b.last_bot_message()["text"]


@pytest.mark.parametrize(
    ("line", "fires"),
    [
        ("0 9 * * 1", local(2026, 11, 23, 9, 0)),  # cron's 1 is Monday (APScheduler's is Tuesday)
        ("0 9 * * 0", local(2026, 11, 29, 9, 0)),  # 0 and 7 are Sunday
        ("0 9 * * 7", local(2026, 11, 29, 9, 0)),
        ("30 18 * * 5", local(2026, 11, 27, 18, 30)),
        ("0 9 * * 1-5", local(2026, 11, 23, 9, 0)),
        ("0 9 * * mon", local(2026, 11, 23, 9, 0)),
    ],
)
def test_crontab_weekdays_mean_what_cron_means(line: str, fires: datetime) -> None:
    from bot.config import cron_trigger

    sunday_noon = local(2026, 11, 22, 12, 0)
    assert cron_trigger(line, SHANGHAI).get_next_fire_time(None, sunday_noon) == fires


async def test_a_frequent_schedule_still_reports_the_last_complete_week(stage: Stage) -> None:
    digests = stage.services.digests
    frequent = dataclasses.replace(stage.config.digest, cron="*/5 * * * *")
    digests.config = dataclasses.replace(stage.config, digest=frequent)
    now = local(2026, 11, 23, 10, 2)
    assert digests.last_fire_time(now) == local(2026, 11, 23, 10, 0)


async def test_unfinished_weeks_are_not_sent_from_the_terminal(
    stage: Stage,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUISHOU_BOT_TOKEN", "123456:AAHfakeTokenForTestsOnly_abcdefghijk")
    path = config_file(stage, tmp_path)
    import asyncio

    code = await asyncio.to_thread(cli, ["digest", "--config", str(path), "--week", "2099-W01"])
    assert code == 1
    assert "that week is not over yet" in capsys.readouterr().err


async def test_ledger_summary_has_numbers_to_compute_with(stage: Stage) -> None:
    await seed(stage)
    stage.clock.current = local(2026, 11, 24, 15, 0)
    from bot.reporting.ledger import parse_range

    period = parse_range(["2026-11-16", "2026-11-22"], local(2026, 11, 24).date(), SHANGHAI)
    sheets = await stage.services.ledger.sheets(period)
    summary = sheets[1]
    row = dict(zip(summary.headers, summary.rows[0], strict=True))
    assert summary.headers[3] == "已办结"
    assert (row["社区"], row["应结案"], row["已办结"], row["办结率(%)"]) == (
        "东关社区",
        2,
        1,
        50.0,
    )
    reports_sheet = sheets[0]
    first = dict(zip(reports_sheet.headers, reports_sheet.rows[0], strict=True))
    # A fix closes when it was resolved; the rider's confirmation is recorded beside it.
    assert first["结案时间"] == datetime(2026, 11, 16, 12, 0)
    assert first["确认/结案登记时间"] == datetime(2026, 11, 16, 12, 0)
