"""Two desks acting on one report at once (issue 8: chats now run side by side).

Updates of different chats are handled concurrently, so a press read in one chat may be
decided while another chat moves the report. Telegram is made slow to answer one
membership question (getChatMember), which holds that press between reading the report
and changing it: exactly the window another desk's press can fall into.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.conftest import Stage, words
from tests.test_casework import accept, card_of, event_kinds, reported, resolve, row, staff_of
from tests.test_rider_intake import buttons
from tests.test_sweep import sweep


def hold_membership_of(stage: Stage, person_id: int) -> Callable[[], None]:
    """Telegram answers getChatMember about this person only once released."""
    members = stage.services.access.members
    ask = members.is_member
    gate = asyncio.Event()

    async def slow(chat_id: int, user_id: int) -> bool:
        if user_id == person_id:
            await gate.wait()
        return await ask(chat_id, user_id)

    members.is_member = slow  # type: ignore[method-assign]
    return gate.set


async def escalated(stage: Stage) -> None:
    """A 东关 report past its deadline: the supervisors hold a live copy of its card."""
    await reported(stage)
    stage.clock.advance(hours=24, minutes=1)
    assert (await sweep(stage))["escalated"] == 1


async def while_held(
    stage: Stage, held: Awaitable[None], person_id: int, other: Awaitable[None]
) -> None:
    """`other` runs to its end while `held` waits for Telegram about `person_id`."""
    release = hold_membership_of(stage, person_id)
    first = asyncio.ensure_future(held)
    await asyncio.sleep(0.05)  # the held press has read the report and waits for Telegram
    assert not first.done()
    await other
    release()
    await first


async def test_an_accept_read_before_a_transfer_does_not_claim_the_moved_report(
    stage: Stage,
) -> None:
    await escalated(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    boss = staff_of(stage, "supervisors", "王主任")
    accept_in_dongguan = stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))

    async def supervisors_transfer() -> None:
        await stage.send(boss.press(card_of(stage, "supervisors"), "↪️ 转派"))
        await stage.send(boss.press(card_of(stage, "supervisors"), "西关社区"))

    await while_held(stage, accept_in_dongguan, zhang.id, supervisors_transfer())

    report = await row(stage)
    assert report.community_id == "xiguan"
    # 西关 got the report to handle: nobody from 东关 holds it.
    assert (report.status, report.handler_id) == ("dispatched", None)
    assert buttons(card_of(stage, "xiguan"))[0] == "✋ 受理"
    assert "accepted" not in await event_kinds(stage)
    answer = stage.tg.callback_answers[-1]
    assert (
        answer.get("show_alert") and answer["text"] == "工单 #1 刚刚被别人更新了，请看最新卡片。"
    )


async def test_two_desks_transferring_at_once_move_it_once(stage: Stage) -> None:
    await escalated(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    boss = staff_of(stage, "supervisors", "王主任")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "↪️ 转派"))
    to_xiguan = stage.send(zhang.press(card_of(stage, "dongguan"), "西关社区"))
    await stage.send(boss.press(card_of(stage, "supervisors"), "↪️ 转派"))
    stage.services.access.forget(stage.chats["dongguan"], zhang.id)

    await while_held(
        stage,
        to_xiguan,
        zhang.id,
        stage.send(boss.press(card_of(stage, "supervisors"), "县消防救援大队城区站")),
    )

    report = await row(stage)
    assert (report.community_id, report.transfer_count) == ("fire_station", 1)
    assert (await event_kinds(stage)).count("transferred") == 1
    # Only the desk that holds the report has a card to act on.
    assert not [m for m in stage.chat_messages("xiguan") if "工单 #1 ·" in words(m)]
    assert buttons(card_of(stage, "fire_station"))[0] == "✋ 受理"


async def test_a_slow_sweep_does_not_close_a_report_resolved_again_meanwhile(
    stage: Stage,
) -> None:
    """The sweep reads every active report, then works through them, waiting on Telegram.

    Meanwhile the rider of #2 says "not fixed" and the staff resolve it again: the sweep
    must not close the new resolution with what it read before (the rider is asked anew).
    """
    await reported(stage, name="甲")  # #1: overdue at the sweep, so it is escalated first
    rider = await reported(stage, name="乙")  # #2: resolved, unanswered for 72 hours
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang, ticket=2)
    await resolve(stage, zhang, "已处理", ticket=2)
    stage.clock.advance(hours=72, minutes=1)

    sweeper = stage.services.sweep
    mark, gate = sweeper._mark, asyncio.Event()

    async def slow_escalation(report, kind, now, then):  # type: ignore[no-untyped-def]
        if kind == "escalated":
            await gate.wait()  # the sweep is busy with #1 (it read #2 already)
        return await mark(report, kind, now, then)

    sweeper._mark = slow_escalation  # type: ignore[method-assign]
    sweeping = asyncio.ensure_future(sweep(stage))
    await asyncio.sleep(0.05)  # the sweep waits on the escalation of #1
    assert not sweeping.done()

    await stage.send(rider.press(rider.last_bot_message(), "❌ 未解决"))
    await accept(stage, zhang, ticket=2)
    await resolve(stage, zhang, "彻底清理", ticket=2)
    question = rider.last_bot_message()
    gate.set()
    done = await sweeping

    assert done["auto_closed"] == 0
    report = await row(stage, 2)
    assert (report.status, report.resolve_count) == ("resolved", 2)
    assert "彻底清理" in question["text"] and buttons(question) == ["✅ 已解决", "❌ 未解决"]
    assert rider.last_bot_message()["message_id"] == question["message_id"]  # nothing since
    await stage.send(rider.press(question, "✅ 已解决"))
    assert (await row(stage, 2)).close_reason == "confirmed"
