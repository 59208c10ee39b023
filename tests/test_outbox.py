"""The outbox: each chat's messages in order, no chat waiting for another, nothing lost.

These drive the real Application and the fake Telegram; what is asserted is what people
see in their chats (and, for the crash, what the worker counted).
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.delivery.worker import Backoff, DeliveryWorker
from storage import outbox as rows
from storage.tables import outbox
from tests.conftest import IN_XIGUAN, Stage, words
from tests.test_casework import accept, card_of, reported, staff_of

DEAD_PID = 4_000_000  # above any pid Linux hands out (pid_max is at most 2**22)
FOREVER = 10**9  # faults until the test clears them


def slow_retries(stage: Stage) -> None:
    """A failing chat is tried again once a second, not every few milliseconds: each step's
    wait for delivery then ends with what can go out, instead of retrying the failing chat
    for its whole timeout (and running through the faults meant to last)."""
    stage.services.delivery.backoff = Backoff(first=1.0, cap=1.0)


async def states(stage: Stage) -> dict[str, int]:
    async with stage.services.db.transaction() as conn:
        return await rows.counts(conn)


async def test_a_card_and_its_ticket_are_recorded_with_the_report_then_delivered(
    stage: Stage,
) -> None:
    rider = await reported(stage)
    assert "工单 #1" in words(card_of(stage, "dongguan"))
    ticket = [m for m in stage.tg.bot_messages(rider.id) if "工单号" in words(m)]
    assert len(ticket) == 1 and "已派往「东关社区」" in words(ticket[0])
    assert (await states(stage)).get("pending", 0) == 0


async def test_a_chat_that_keeps_failing_holds_back_only_its_own_messages(stage: Stage) -> None:
    """东关's chat answers 502 for a while: its card waits (in order), while a rider in
    another community gets their card and ticket at once, and /help is answered."""
    slow_retries(stage)
    stage.tg.bad_gateway("sendPhoto", chat_id=stage.chats["dongguan"], times=FOREVER)
    first = await reported(stage)  # into 东关: its card cannot be posted yet
    assert not any("工单 #1" in words(m) for m in stage.chat_messages("dongguan"))
    ticket = [m for m in stage.tg.bot_messages(first.id) if "工单号" in words(m)]
    assert ticket and "正在派往「东关社区」" in words(ticket[0])  # the ticket did not wait
    # Still pending, not sent to the supervisors: a 502 passes.
    assert not any("工单 #1" in words(m) for m in stage.chat_messages("supervisors"))
    assert (await states(stage))["pending"] >= 1

    second = await reported(stage, IN_XIGUAN, name="李师傅")
    assert "工单 #2" in words(card_of(stage, "xiguan", 2))
    assert any("已派往「西关社区」" in words(m) for m in stage.tg.bot_messages(second.id))

    stage.tg.clear_faults()
    await stage.until(lambda: any("工单 #1" in words(m) for m in stage.chat_messages("dongguan")))
    await stage.delivered()
    cards = [m for m in stage.chat_messages("dongguan") if "工单 #1 ·" in words(m)]
    assert len(cards) == 1  # once, in its own community
    assert any("已派往「东关社区」" in words(m) for m in stage.tg.bot_messages(first.id))


async def test_card_edits_waiting_for_a_slow_chat_collapse_into_the_latest(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    slow_retries(stage)
    stage.tg.bad_gateway("editMessageCaption", chat_id=stage.chats["dongguan"], times=FOREVER)
    await accept(stage, zhang)  # the card's redraw waits...
    for _ in range(10):  # ...and more redraws join it
        await stage.services.dispatcher.refresh(1)
    async with stage.services.db.transaction() as conn:
        pending = (
            await conn.execute(
                select(outbox.c.id).where(
                    outbox.c.state == "pending", outbox.c.kind == "card_edit"
                )
            )
        ).all()
    # One waits for its turn (one more may be in the middle of a try): not ten.
    assert 1 <= len(pending) <= 2
    stage.tg.clear_faults()
    await stage.until(lambda: "张三" in words(card_of(stage, "dongguan")), timeout=5)


async def test_a_delivery_cut_off_by_a_crash_resumes_at_the_next_start(stage: Stage) -> None:
    """A row claimed by a run that was killed is delivered by the next run (and counted as
    possibly duplicated), not left to wait for its lease to expire."""
    worker: DeliveryWorker = stage.services.delivery
    await worker.stop()
    stage.deliver_after_send = False
    rider = await reported(stage)  # the report exists; its ticket and card wait
    # The killed run had claimed them (its lease still runs) and started delivering.
    async with stage.services.db.transaction() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.state == "pending")
            .values(
                claimed_by=f"{socket.gethostname()}:{DEAD_PID}",
                claimed_until=datetime.now(UTC) + timedelta(minutes=2),
                attempts=1,
            )
        )
    assert not any("工单 #1" in words(m) for m in stage.chat_messages("dongguan"))
    fresh = DeliveryWorker(
        db=stage.services.db,
        couriers=worker.couriers,
        steps=worker.steps,
        backoff=worker.backoff,
        sole=False,  # even with replicas: a dead process of this host holds nothing
    )
    await fresh.start()
    try:
        assert await fresh.drain(5)
    finally:
        await fresh.stop()
    assert "工单 #1" in words(card_of(stage, "dongguan"))
    assert any("工单号" in words(m) for m in stage.tg.bot_messages(rider.id))
    assert fresh.tally.redelivered >= 1


async def test_two_workers_never_deliver_the_same_message(stage: Stage) -> None:
    """Several workers (replicas on PostgreSQL) claim side by side: each message once."""
    worker: DeliveryWorker = stage.services.delivery
    await worker.stop()
    stage.deliver_after_send = False
    for n in range(6):
        await reported(stage, name=f"骑手{n}")
    others = [
        DeliveryWorker(
            db=stage.services.db,
            couriers=worker.couriers,
            steps=worker.steps,
            backoff=worker.backoff,
            sole=False,
        )
        for _ in range(3)
    ]
    for w in others:
        w.name += f"-{id(w)}"
    await asyncio.gather(*(w.drain(10) for w in others))
    cards = [m for m in stage.chat_messages("dongguan") if "·" in words(m).split("\n", 1)[0]]
    numbers = sorted(words(m).split(" ·")[0] for m in cards)
    assert len(numbers) == 6 and len(set(numbers)) == 6
    assert sum(w.tally.delivered for w in others) == (await states(stage))["sent"]


async def test_flood_control_postpones_only_its_chat_for_as_long_as_telegram_asks(
    stage: Stage,
) -> None:
    """A 429 longer than one delivery's retry budget: the card waits Telegram's retry_after
    (not less: trying sooner only earns another 429), while the rider's ticket and /help
    are answered at once."""
    stage.tg.fail_next(
        "sendPhoto",
        429,
        "Too Many Requests: retry after 45",
        parameters={"retry_after": 45},
        chat_id=stage.chats["dongguan"],
    )
    before = datetime.now(UTC)
    rider = await reported(stage)
    assert any("正在派往「东关社区」" in words(m) for m in stage.tg.bot_messages(rider.id))
    assert not any("工单 #1" in words(m) for m in stage.chat_messages("dongguan"))
    other = stage.person("路人")
    await stage.send(other.command("/help"))
    assert "使用说明" in words(other.last_bot_message())
    async with stage.services.db.transaction() as conn:
        waiting = (await conn.execute(select(outbox).where(outbox.c.state == "pending"))).one()
    assert waiting.kind == "card"
    assert waiting.not_before.replace(tzinfo=UTC) >= before + timedelta(seconds=44)
    # Telegram's minute passes (played by moving the wait): the card goes, once.
    async with stage.services.db.transaction() as conn:
        await conn.execute(update(outbox).values(not_before=datetime.now(UTC)))
    stage.services.delivery.wake()
    await stage.delivered()
    cards = [m for m in stage.chat_messages("dongguan") if "工单 #1 ·" in words(m)]
    assert len(cards) == 1
    assert any("已派往「东关社区」" in words(m) for m in stage.tg.bot_messages(rider.id))


def test_the_wait_between_tries_stays_capped_however_long_telegram_is_down() -> None:
    backoff = Backoff(first=2.0, cap=60.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 6)] == [2.0, 4.0, 8.0, 60.0]
    assert backoff.delay(5000) == 60.0  # a day of failures: still a minute, no overflow
