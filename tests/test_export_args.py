"""/export dates typed by a supervisor on a bad day: every one gets an answer.

Out-of-range years, odd ISO forms and a range of decades must not crash the command
(which leaves the supervisor with no answer at all) nor make the bot build a ledger of
the whole history.
"""

from __future__ import annotations

import pytest

from tests.conftest import Stage
from tests.test_casework import reported, staff_of

USAGE = "用法：/export"


async def answer_to(stage: Stage, command: str) -> str:
    boss = staff_of(stage, "supervisors", "王主任")
    chat = stage.tg.chat(stage.chats["supervisors"])
    before = len(stage.chat_messages("supervisors"))
    await stage.send(boss.command(command, chat=chat))
    await stage.until(lambda: len(stage.chat_messages("supervisors")) > before)
    return stage.chat_messages("supervisors")[before].get("text", "")


@pytest.mark.parametrize(
    "command",
    [
        "/export 9999-12-31 9999-12-31",  # the day after the end does not exist
        "/export 0001-01-01 0001-01-02",  # its midnight in Shanghai has no UTC moment
        "/export 9999-12-31",
        "/export 2026-02-30",
        "/export 2026-W47",  # an ISO week, which Python reads as its Monday
        "/export 20261101",
        "/export ２０２６-１１-０１",  # full-width digits
        "/export 2026-11-30 2026-11-01",  # reversed
    ],
)
async def test_odd_dates_get_the_usage(stage: Stage, command: str) -> None:
    await reported(stage)
    assert (await answer_to(stage, command)).startswith(USAGE)


async def test_a_range_of_decades_is_refused_before_any_work(stage: Stage) -> None:
    await reported(stage)
    for command in ("/export 2000-01-01 2026-12-31", "/export 2026-01-01 9999-12-31"):
        assert await answer_to(stage, command) == "一次最多导出 366 天，请缩小日期范围。"
    assert not any("document" in m for m in stage.chat_messages("supervisors"))
    # A year is still fine.
    answer = await answer_to(stage, "/export 2026-01-01 2026-12-31")
    assert answer == "⏳ 正在导出 1 条工单（2026-01-01 至 2026-12-31）…"


async def test_a_burst_of_exports_in_one_chat_runs_one_after_another(stage: Stage) -> None:
    """Three /export at once from the supervisors' chat: each file follows its own notice."""
    from tests.test_fairness import drained, queue

    await reported(stage)
    stage.clock.advance(minutes=1)
    boss = staff_of(stage, "supervisors", "王主任")
    chat = stage.tg.chat(stage.chats["supervisors"])
    before = len(stage.chat_messages("supervisors"))
    await queue(stage, [boss.command("/export", chat=chat) for _ in range(3)])
    await drained(stage)
    await stage.until(lambda: len(stage.chat_messages("supervisors")) >= before + 6)
    kinds = ["file" if "document" in m else "notice" for m in stage.chat_messages("supervisors")]
    assert kinds[before:] == ["notice", "file"] * 3
