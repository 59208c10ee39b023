"""The outbox attacked: Telegram's bad days, slow deliveries, poison rows, moved chats.

Each test is one attack on the durable outbox (bot/delivery, storage/outbox.py) and asserts
what the people involved would see (or what the machine would feel: a worker spinning).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.casework.rider_notices import address
from bot.delivery.worker import DeliveryWorker
from bot.messages import Reply
from storage import outbox as rows
from storage import riders
from storage.tables import outbox
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.images import jpeg
from tests.test_casework import accept, card_of, reported, staff_of
from tests.test_faults import card_parts, ready_to_submit, status


def worker(stage: Stage) -> DeliveryWorker:
    return stage.services.delivery


async def pending(stage: Stage) -> list[Any]:
    async with stage.services.db.transaction() as conn:
        query = select(outbox).where(outbox.c.state == rows.PENDING).order_by(outbox.c.id)
        return list((await conn.execute(query)).all())


def tickets_in(stage: Stage, community: str) -> list[int]:
    """The ticket numbers of the cards in a community's chat, in the order they arrived."""
    found = []
    for m in stage.chat_messages(community):
        first = words(m).split("\n", 1)[0]
        if "工单 #" in first and " ·" in first and "\n" in words(m):
            found.append(int(first.split("工单 #", 1)[1].split(" ", 1)[0]))
    return found


# ---- the worker under flood control -------------------------------------------------------


async def test_a_chat_held_back_by_flood_control_does_not_make_the_worker_spin(
    stage: Stage,
) -> None:
    """东关 is told to wait 45 s (beyond one try's budget): its card waits, and so does the
    card behind it. Meanwhile the worker has nothing to do and must sleep, not hammer the
    database in a loop (two cores, shared with every handler)."""
    stage.tg.flood("sendPhoto", retry_after=45)
    stage.deliver_after_send = False
    await reported(stage)
    await reported(stage, name="李师傅")  # a second card, queued behind the first
    await stage.until(lambda: stage.tg.calls_to("sendPhoto"))
    # Nothing is due for 45 s: draining says so at once rather than waiting it out.
    drained = await stage.services.delivery.drain(timeout=2.0)
    assert stage.chat_messages("dongguan") == []
    passes = 0
    real = worker(stage).pass_once

    async def counted() -> int:
        nonlocal passes
        passes += 1
        return await real()

    worker(stage).pass_once = counted  # type: ignore[method-assign]
    await asyncio.sleep(1.0)
    # poll is 1 s: a pass or two in a second, not hundreds.
    assert passes <= 5, f"{passes} passes in 1 s while nothing was due"
    assert drained, "drain waited out its timeout while nothing was due"


# ---- a delivery slower than its lease -----------------------------------------------------


def slow_cards(stage: Stage, seconds: float) -> list[int]:
    """Telegram takes `seconds` to answer each card post (a bad day: retries, timeouts).
    Returns the list that counts the posts started."""
    courier = worker(stage).couriers["telegram"]
    real = courier.post_card
    started: list[int] = []

    async def slow(chat: Any, card: Any, **kwargs: Any) -> Any:
        started.append(card.report_id)
        await asyncio.sleep(seconds)
        return await real(chat, card, **kwargs)

    courier.post_card = slow  # type: ignore[method-assign]
    return started


async def test_a_delivery_outliving_its_lease_is_not_started_twice(stage: Stage) -> None:
    """One card post takes longer than the claim's lease (Telegram slow, tries and timeouts
    add up: 5 tries of a 20 s upload is past 2 minutes). The worker must not take the same
    row again while it is still delivering it: the community would get the card twice."""
    worker(stage).lease = timedelta(seconds=0.3)
    started = slow_cards(stage, 1.5)
    stage.deliver_after_send = False
    await reported(stage)
    await stage.until(lambda: card_parts(stage, "dongguan"), timeout=10)
    await stage.delivered(timeout=10)
    assert started == [1]
    assert card_parts(stage, "dongguan") == ["card"]


async def test_a_slow_chat_keeps_its_order_past_the_lease(stage: Stage) -> None:
    """Two cards for one community, the first slow: the second never overtakes it."""
    worker(stage).lease = timedelta(seconds=0.3)
    slow_cards(stage, 1.0)
    stage.deliver_after_send = False
    await reported(stage)
    await reported(stage, name="李师傅")
    await stage.until(lambda: len(tickets_in(stage, "dongguan")) >= 2, timeout=10)
    await stage.delivered(timeout=10)
    assert tickets_in(stage, "dongguan") == [1, 2]


# ---- a message in several parts, cut in the middle ----------------------------------------


async def test_an_album_card_whose_text_fails_for_a_while_is_not_posted_twice(
    stage: Stage,
) -> None:
    """Two photos go as an album, then the card's text. The text meets 502s past one try's
    budget: the card is retried later. The community must not get the album again (nor a
    third time): one album, one card."""
    rider = stage.person()
    for i in range(2):
        await stage.send(
            rider.photo(jpeg(seed=i), media_group_id="a", caption="两张" if i else None)
        )
    await stage.settle()
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    stage.tg.bad_gateway("sendMessage", chat_id=stage.chats["dongguan"], times=7)
    await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
    await stage.until(lambda: "text" in stage.chat_messages("dongguan")[-1], timeout=10)
    await stage.delivered()
    albums = [m for m in stage.chat_messages("dongguan") if "photo" in m]
    assert len(albums) == 2, f"{len(albums)} photos posted for a 2-photo report"
    assert card_parts(stage, "dongguan") == ["photo", "photo", "card"]
    assert await status(stage) == "dispatched"


async def test_a_long_message_cut_after_its_first_part_is_not_repeated(stage: Stage) -> None:
    """A text too long for one message goes in parts. The first arrives, then Telegram
    answers 502 past one try's budget: the next try sends the rest, not the first again."""
    rider = stage.person()
    await stage.send(rider.text("/start"))
    bot = stage.services.courier.bot  # type: ignore[attr-defined]
    real = bot.send_message

    armed = [True]

    async def then_fail(chat_id: int, *args: Any, **kwargs: Any) -> Any:
        message = await real(chat_id, *args, **kwargs)
        if chat_id == rider.id and "第一段" in args[0] and armed:
            armed.clear()
            stage.tg.bad_gateway("sendMessage", chat_id=rider.id, times=7)
        return message

    bot.send_message = then_fail
    before = len(stage.tg.bot_messages(rider.id))
    text = "\n".join(["第一段"] + ["一行很长的说明文字。" * 20] * 40 + ["最后一段"])
    async with stage.services.db.transaction() as conn:
        known = await riders.by_account(conn, "telegram", str(rider.id))
        assert known is not None
        await stage.services.outbox.message(conn, address(known).chat, Reply(text))
    await stage.until(lambda: "最后一段" in words(rider.last_bot_message()), timeout=10)
    await stage.delivered()
    parts = [words(m) for m in stage.tg.bot_messages(rider.id)[before:]]
    assert sum("第一段" in p for p in parts) == 1, f"{len(parts)} parts arrived"


# ---- poison rows --------------------------------------------------------------------------


async def put_raw(stage: Stage, chat_id: int, kind: str, payload: dict[str, Any]) -> None:
    """A row as a bug (or an old version of the bot) might have left it."""
    async with stage.services.db.transaction() as conn:
        await rows.put(
            conn,
            channel="telegram",
            chat_id=chat_id,
            thread_id=None,
            kind=kind,
            payload=payload,
            at=datetime.now(UTC),
        )


async def say_to(stage: Stage, rider_tg: int, text: str) -> None:
    async with stage.services.db.transaction() as conn:
        known = await riders.by_account(conn, "telegram", str(rider_tg))
        assert known is not None
        await stage.services.outbox.message(conn, address(known).chat, Reply(text))


async def test_a_poison_row_does_not_block_its_chat_for_ever(stage: Stage) -> None:
    """A row whose payload always breaks the step is given up after a few tries: the
    messages behind it in the same chat still arrive."""
    rider = stage.person()
    await stage.send(rider.text("/start"))
    await put_raw(stage, rider.id, "message", {"no": "reply"})
    await say_to(stage, rider.id, "排在坏消息后面的通知")
    await stage.until(lambda: "排在坏消息后面" in words(rider.last_bot_message()), timeout=10)
    await stage.delivered()
    counts = await rows_by_state(stage)
    assert counts.get("failed") == 1 and counts.get("pending", 0) == 0


async def test_a_refusal_whose_follow_up_breaks_does_not_block_its_chat(stage: Stage) -> None:
    """The chat refuses a message for good and what must follow breaks (a bug, the database
    gone for a moment): the row must still end, and the chat's next message arrive, not
    wait for the claim's lease to run out again and again."""
    rider = stage.person()
    await stage.send(rider.text("/start"))
    steps = worker(stage).steps
    real = steps["message"].failed
    broke: list[int] = []

    async def failing(row: Any, error: Any) -> None:
        if not broke:
            broke.append(row.id)
            raise RuntimeError("database went away")
        await real(row, error)

    steps["message"].failed = failing
    stage.tg.fail_next("sendMessage", 400, "Bad Request: message is too weird", chat_id=rider.id)
    await say_to(stage, rider.id, "被拒的一条")
    await say_to(stage, rider.id, "后面的一条")
    await stage.until(lambda: "后面的一条" in words(rider.last_bot_message()), timeout=10)
    assert broke


async def test_a_hiccup_after_a_long_outage_does_not_abandon_the_card(stage: Stage) -> None:
    """东关's chat was down for a long while (many tries); then one unexpected error (the
    database busy for a moment) meets the card. One hiccup is not a poison row: the card
    must still reach 东关, not be dropped on the spot."""
    stage.deliver_after_send = False
    stage.tg.bad_gateway("sendPhoto", chat_id=stage.chats["dongguan"], times=5 * 11)
    cards = stage.services.dispatcher
    real = cards.draw
    hiccups: list[int] = []

    async def draw(report_id: int) -> Any:
        async with stage.services.db.transaction() as conn:
            (attempts,) = (
                await conn.execute(select(outbox.c.attempts).where(outbox.c.kind == "card"))
            ).one()
        if attempts >= 11 and not hiccups:
            hiccups.append(attempts)
            raise OperationalError("select", {}, Exception("database is locked"))
        return await real(report_id)

    cards.draw = draw  # type: ignore[method-assign]
    await reported(stage)
    await stage.until(lambda: hiccups, timeout=20)
    await stage.until(lambda: tickets_in(stage, "dongguan") == [1], timeout=10)
    await stage.delivered()
    assert await status(stage) == "dispatched"


async def rows_by_state(stage: Stage) -> dict[str, int]:
    async with stage.services.db.transaction() as conn:
        return await rows.counts(conn)


# ---- stopped in the middle of a delivery --------------------------------------------------


async def test_a_try_cut_off_after_a_postponed_one_is_counted_as_a_possible_duplicate(
    stage: Stage,
) -> None:
    """The rider's ticket meets a 502 (postponed), then the bot is stopped in the middle of
    the next try. The next run delivers it, and counts it as possibly duplicated: the cut
    try may have reached Telegram. (Counting only first tries would hide duplicates.)"""
    rider = stage.person()
    await stage.send(rider.text("/start"))
    stage.deliver_after_send = False
    stage.tg.bad_gateway("sendMessage", chat_id=rider.id, times=5)
    courier = worker(stage).couriers["telegram"]
    real = courier.send_parts
    calls: list[int] = []

    async def hang_on_second(chat: Any, reply: Any, *args: Any, **kwargs: Any) -> Any:
        if chat.chat_id == rider.id:
            calls.append(1)
            if len(calls) == 2:
                await asyncio.sleep(3600)
        return await real(chat, reply, *args, **kwargs)

    courier.send_parts = hang_on_second  # type: ignore[method-assign]
    await say_to(stage, rider.id, "一条通知")
    await stage.until(lambda: len(calls) == 2, timeout=10)
    old = worker(stage)
    await old.stop(grace=0.1)  # the run ends while the try hangs
    courier.send_parts = real  # type: ignore[method-assign]
    fresh = DeliveryWorker(
        db=stage.services.db, couriers=old.couriers, steps=old.steps, backoff=old.backoff
    )
    await fresh.start()
    try:
        assert await fresh.drain(5)
    finally:
        await fresh.stop()
    assert "一条通知" in words(rider.last_bot_message())
    assert fresh.tally.redelivered == 1


# ---- escalation and transfer while the community's card is still on its way --------------


async def ticket_words(stage: Stage, rider: Any) -> str:
    found = [m for m in stage.tg.bot_messages(rider.id) if "工单号" in words(m)]
    return words(found[-1]) if found else ""


async def test_an_escalation_copy_does_not_tell_the_rider_the_community_has_it(
    stage: Stage,
) -> None:
    """东关's chat has answered 502 since the report (a day-long outage of that chat). At the
    deadline the supervisors get the escalation copy. The rider must not read "已派往
    「东关社区」": 东关 has nothing. Once 东关 is back its card arrives, and then it is true."""
    stage.deliver_after_send = False
    stage.tg.bad_gateway("sendPhoto", chat_id=stage.chats["dongguan"], times=10**6)
    rider = await reported(stage)
    await stage.until(lambda: "正在派往「东关社区」" in words(rider.last_bot_message()))
    stage.clock.advance(hours=25)
    assert (await stage.services.sweep.run())["escalated"] == 1
    await stage.until(lambda: tickets_in(stage, "supervisors") == [1], timeout=10)
    await asyncio.sleep(0.3)  # what the copy's delivery set in motion
    assert "已派往「东关社区」" not in await ticket_words(stage, rider)
    stage.tg.clear_faults()
    await stage.until(lambda: tickets_in(stage, "dongguan") == [1], timeout=10)
    await stage.until(lambda: "已派往「东关社区」" in words(rider.last_bot_message()), timeout=10)


async def test_a_transfer_from_the_copy_before_the_first_card_arrived(stage: Stage) -> None:
    """The supervisors transfer the report (from the escalation copy) to 西关 while 东关's
    card is still waiting for 东关's chat. When 东关 is back it must not get a live card of
    a report that is no longer its own; 西关 gets one card."""
    stage.deliver_after_send = False
    stage.tg.bad_gateway("sendPhoto", chat_id=stage.chats["dongguan"], times=10**6)
    rider = await reported(stage)
    await stage.until(lambda: "正在派往「东关社区」" in words(rider.last_bot_message()))
    stage.clock.advance(hours=25)
    await stage.services.sweep.run()
    await stage.until(lambda: tickets_in(stage, "supervisors") == [1], timeout=10)
    await asyncio.sleep(0.3)  # the copy's delivery recorded
    boss = staff_of(stage, "supervisors", "王主任")
    copy = card_of(stage, "supervisors")
    await stage.send(boss.press(copy, "↪️ 转派"))
    await stage.send(boss.press(card_of(stage, "supervisors"), "西关社区"))
    await stage.until(lambda: tickets_in(stage, "xiguan") == [1], timeout=10)
    stage.tg.clear_faults()
    await asyncio.sleep(0.5)
    await stage.delivered()
    assert tickets_in(stage, "dongguan") == []
    assert tickets_in(stage, "xiguan") == [1]
    assert "西关社区" in words(rider.last_bot_message())


async def test_a_desk_refusing_after_the_escalation_copy_leaves_one_card_and_a_true_ticket(
    stage: Stage,
) -> None:
    """The escalation copy is in the supervisors' chat; then 东关's chat refuses for good
    (the bot was removed). The supervisors do not get a second card of the same report,
    and the rider's ticket says where the report really is."""
    stage.deliver_after_send = False
    stage.tg.bad_gateway("sendPhoto", chat_id=stage.chats["dongguan"], times=10**6)
    rider = await reported(stage)
    await stage.until(lambda: "正在派往「东关社区」" in words(rider.last_bot_message()))
    stage.clock.advance(hours=25)
    await stage.services.sweep.run()
    await stage.until(lambda: tickets_in(stage, "supervisors") == [1], timeout=10)
    stage.tg.clear_faults()
    stage.tg.set_bot_status(stage.chats["dongguan"], "kicked")
    fallback = "「东关社区」的群暂时无法接收，已转交「壶关县网格化服务管理中心」"
    await stage.until(lambda: fallback in words(rider.last_bot_message()), timeout=10)
    await stage.delivered()
    assert tickets_in(stage, "supervisors") == [1]
    assert any("无法送达「东关社区」" in words(m) for m in stage.chat_messages("supervisors"))
    assert await status(stage) == "dispatched"


# ---- a group upgraded to a supergroup while its messages wait -----------------------------


async def test_cards_waiting_when_the_group_is_upgraded_keep_their_order(
    tmp_path: Any, tg: Any, clock: Any
) -> None:
    """西关 is a basic group. Report #1's card is told to wait (429, retry after 45 s);
    meanwhile 西关 is upgraded (the bot sees the service messages) and report #2 comes in.
    In the new supergroup the cards arrive in the order they were made: #1, then #2."""
    from tests.conftest import make_config, make_world, start_app, stop_app

    chats, topics = make_world(tg)
    chats["xiguan"] = tg.new_group("西关社区 随手反馈", supergroup=False)["id"]
    config = make_config(tmp_path, chats, topics)
    stage = Stage(tg, config, await start_app(config, tg, clock), clock, chats, topics)
    try:
        stage.deliver_after_send = False
        old = stage.chats["xiguan"]
        first = stage.person("王师傅")
        summary = await ready_to_submit(stage, first)
        tg.flood("sendPhoto", retry_after=45)
        await stage.send(first.press(summary, "✅ 提交"))
        await stage.until(lambda: tg.calls_to("sendPhoto")[-1].status == 429)
        new, updates = tg.upgrade_to_supergroup(old)
        for service_message in updates:
            await stage.send(service_message)
        second = stage.person("李师傅")
        summary = await ready_to_submit(stage, second, category="🧹 环境卫生")
        await stage.send(second.press(summary, "✅ 提交"))
        await asyncio.sleep(0.5)
        async with stage.services.db.transaction() as conn:  # the 45 s have passed
            await conn.execute(
                update(outbox)
                .where(outbox.c.state == rows.PENDING)
                .values(not_before=datetime.now(UTC))
            )
        worker(stage).wake()
        stage.chats["xiguan"] = new
        await stage.until(lambda: len(tickets_in(stage, "xiguan")) == 2, timeout=10)
        assert tickets_in(stage, "xiguan") == [1, 2]
        assert tg.bot_messages(old) == []
    finally:
        await stop_app(stage.app)


# ---- prompts to staff, answered as soon as they appear ------------------------------------


async def test_a_prompt_answered_before_its_delivery_was_recorded_is_not_ignored(
    stage: Stage,
) -> None:
    """张三 presses 办结; the prompt (reply to this message) appears, and his reply comes in
    before the bot has written down the prompt's message id (the database slow for a
    moment). His answer must be taken, not silently ignored."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    courier = worker(stage).couriers["telegram"]
    real = courier.send_parts
    answered: list[bool] = []

    async def answer_at_once(chat: Any, reply: Any, *args: Any, **kwargs: Any) -> Any:
        ids = await real(chat, reply, *args, **kwargs)
        if reply.force_reply and not answered:
            answered.append(True)
            prompt = stage.tg.message(chat.chat_id, ids[-1])
            # The reply arrives while the delivery is still being recorded.
            asyncio.get_running_loop().create_task(
                stage.app.process_update(
                    Update.de_json(zhang.reply(prompt, text="已清理完毕"), stage.app.bot)
                )
            )
            await asyncio.sleep(0.2)
        return ids

    courier.send_parts = answer_at_once  # type: ignore[method-assign]
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✅ 办结"))
    await stage.until(lambda: answered)
    await asyncio.sleep(0.5)
    await stage.delivered()
    assert await status(stage) == "resolved"
    assert "问题解决了吗" in words(rider.last_bot_message())


@pytest.mark.xfail(
    strict=True,
    reason="at least once: the first copy's message id never reached the bot, so a reply "
    "to it is not known as the prompt's answer and is ignored without a word (a fix would "
    "recognise a reply to an unknown bot message from a staff member with an open prompt "
    "there, at least to tell them to answer the latest prompt)",
)
async def test_a_prompt_duplicated_by_a_lost_answer_works_from_either_copy(
    stage: Stage,
) -> None:
    """The prompt's answer from Telegram is lost after it was applied: the group shows the
    prompt twice. 张三 answers the first one he sees; that must work too."""
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    stage.tg.lose_response("sendMessage", applied=True, chat_id=stage.chats["dongguan"])
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✅ 办结"))
    prompts = [m for m in stage.chat_messages("dongguan") if "回复本条消息" in words(m)]
    assert len(prompts) == 2  # the price of at-least-once
    await stage.send(zhang.reply(prompts[0], text="已清理完毕"))
    assert await status(stage) == "resolved"


# ---- after_commit, digests -----------------------------------------------------------------


async def test_a_transaction_that_fails_wakes_nobody_and_sends_nothing(stage: Stage) -> None:
    """A step that puts a message and then fails (rolled back): the message must not go,
    and the worker is not woken for it."""
    rider = stage.person()
    await stage.send(rider.text("/start"))
    before = len(stage.tg.bot_messages(rider.id))
    woken: list[int] = []
    stage.services.outbox.on_put(lambda: woken.append(1))
    with pytest.raises(RuntimeError):
        async with stage.services.db.transaction() as conn:
            known = await riders.by_account(conn, "telegram", str(rider.id))
            assert known is not None
            await stage.services.outbox.message(conn, address(known).chat, Reply("不该发出的消息"))
            raise RuntimeError("the step failed after putting its message")
    await stage.delivered()
    assert woken == []
    assert len(stage.tg.bot_messages(rider.id)) == before
    await say_to(stage, rider.id, "之后的消息")  # and the next transaction wakes it
    assert woken == [1]
    await stage.until(lambda: "之后的消息" in words(rider.last_bot_message()))


async def test_a_digest_asked_for_twice_at_once_goes_out_once(stage: Stage) -> None:
    """The start's catch-up and the scheduled run meet (the bot started at 09:00): each
    desk gets the week's digest once."""
    from tests.test_digest import local, seed

    await seed(stage)
    stage.clock.current = local(2026, 11, 23, 9, 30)
    digests = stage.services.digests
    results = await asyncio.gather(digests.send_due(), digests.send_due(), return_exceptions=True)
    assert not any(isinstance(r, Exception) for r in results), results
    await stage.delivered()
    weekly = [m for m in stage.chat_messages("dongguan") if "2026-W47 周报" in words(m)]
    assert len(weekly) == 1


# ---- several workers (replicas on PostgreSQL) ---------------------------------------------


async def test_several_workers_with_slow_deliveries_deliver_each_card_once_in_order(
    stage: Stage,
) -> None:
    """Four workers drain the same outbox; card posts are slow (longer than the lease).
    Every card arrives once, and each community's in the order the reports were made."""
    main = worker(stage)
    await main.stop()
    stage.deliver_after_send = False
    for n in range(4):
        await reported(stage, name=f"东关骑手{n}")
        await reported(stage, IN_XIGUAN, category="🚨 社会治安", name=f"西关骑手{n}")
    slow_cards(stage, 2.5)
    others = []
    for i in range(4):
        w = DeliveryWorker(
            db=stage.services.db,
            couriers=main.couriers,
            steps=main.steps,
            backoff=main.backoff,
            # Longer than a heartbeat stalled by a loaded machine (renewed every lease/3),
            # shorter than a card's post.
            lease=timedelta(seconds=2),
            sole=False,
        )
        w.name += f"-{i}"
        others.append(w)
    done = await asyncio.gather(*(w.drain(60) for w in others))
    assert all(done)
    assert tickets_in(stage, "dongguan") == [1, 3, 5, 7]
    assert tickets_in(stage, "xiguan") == [2, 4, 6, 8]
    assert sum(w.tally.redelivered for w in others) == 0


# ---- a long outage, then Telegram is back --------------------------------------------------


async def test_after_a_long_outage_everything_arrives_once_and_in_order(stage: Stage) -> None:
    """Telegram answers 502 to everything for a while (hundreds of calls) while riders
    report into two communities and staff act. When it is back: every card once, every
    rider's ticket once (then edited), and each chat's messages in the order they were
    made."""
    zhang = staff_of(stage, "dongguan", "张三")
    first = await reported(stage)  # before the outage: a card staff can act on
    stage.deliver_after_send = False
    await worker(stage).stop()  # what follows waits in the outbox...
    riders_ = [first]
    for n in range(3):
        riders_.append(await reported(stage, name=f"东关骑手{n}"))
        riders_.append(await reported(stage, IN_XIGUAN, category="🚨 社会治安", name=f"西{n}"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    stage.tg.outage_calls(400)  # ...and meets Telegram down
    await worker(stage).start()
    await stage.until(lambda: stage.tg._outage_calls == 0, timeout=30)
    assert await stage.delivered(timeout=30)
    assert tickets_in(stage, "dongguan") == [1, 2, 4, 6]
    assert tickets_in(stage, "xiguan") == [3, 5, 7]
    for number, rider in enumerate(riders_, start=1):
        said = [words(m) for m in stage.tg.bot_messages(rider.id)]
        assert sum(f"工单号 #{number}" in s for s in said) == 1, (number, said)
        assert any("已派往" in s for s in said)
    # 王师傅 (#1) hears that it was accepted, after his ticket.
    said = [words(m) for m in stage.tg.bot_messages(first.id)]
    assert any("受理" in s for s in said[said.index(next(s for s in said if "工单号" in s)) :])
    assert "处理中（张三）" in words(card_of(stage, "dongguan"))


# ---- refused everywhere ---------------------------------------------------------------------


async def test_a_card_refused_by_its_community_and_the_supervisors_is_tried_again(
    stage: Stage,
) -> None:
    """The bot was removed from 西关's group and from the supervisors'. Nothing loops: the
    rows end, the rider's ticket still says it is on its way (true). Once the bot is back
    in the supervisors' group, the sweep's next try gets it there, and the ticket says so."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.set_bot_status(stage.chats["xiguan"], "kicked")
    stage.tg.set_bot_status(stage.chats["supervisors"], "kicked")
    await stage.send(rider.press(summary, "✅ 提交"))
    assert (await rows_by_state(stage)).get("pending", 0) == 0
    assert "正在派往「西关社区」" in words(rider.last_bot_message())
    assert await status(stage) == "submitted"
    stage.tg.set_bot_status(stage.chats["supervisors"], "administrator")
    stage.clock.advance(minutes=3)
    assert (await stage.sweep())["redispatched"] == 1
    assert tickets_in(stage, "supervisors") == [1]
    assert "已转交「壶关县网格化服务管理中心」" in words(rider.last_bot_message())
    assert await status(stage) == "dispatched"
    assert (await stage.sweep())["redispatched"] == 0


# ---- a rider who blocked the bot, then came back -------------------------------------------


async def test_a_rider_who_blocked_before_the_ticket_and_came_back_hears_what_follows(
    stage: Stage,
) -> None:
    """The rider blocks the bot as they press Submit: the ticket is refused, and the
    card says the rider cannot be reached. The rider unblocks and writes /my: the warning
    goes, and the next step's notice reaches them."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider, point=IN_DONGGUAN, category="🔥 消防安全")
    stage.tg.block_bot(rider.id)  # as the press leaves (its own answer is refused too)
    await stage.send(rider.press(summary, "✅ 提交"))
    warning = "⚠️ 骑手已无法联系"
    assert warning in words(card_of(stage, "dongguan"))
    stage.tg.unblock_bot(rider.id)
    await stage.send(rider.command("/my"))
    assert warning not in words(card_of(stage, "dongguan"))
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    assert "受理" in words(rider.last_bot_message())


# ---- the ticket's edit racing the ticket ----------------------------------------------------


async def test_the_ticket_edit_never_overtakes_the_ticket(stage: Stage) -> None:
    """The rider's chat fails for a while (the ticket is postponed) while the card goes out
    at once and asks for the ticket to be edited. The rider ends with one ticket message,
    saying where the report went."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider, point=IN_DONGGUAN, category="🔥 消防安全")
    stage.tg.bad_gateway("sendMessage", chat_id=rider.id, times=5 * 3)
    stage.deliver_after_send = False
    await stage.send(rider.press(summary, "✅ 提交"))
    await stage.until(lambda: tickets_in(stage, "dongguan") == [1])
    await stage.until(lambda: "已派往「东关社区」" in words(rider.last_bot_message()), timeout=10)
    await stage.delivered()
    tickets = [m for m in stage.tg.bot_messages(rider.id) if "工单号" in words(m)]
    assert len(tickets) == 1 and "已派往「东关社区」" in words(tickets[0])


async def test_nothing_is_left_behind_in_memory_by_transactions_and_deliveries(
    stage: Stage,
) -> None:
    """Commit callbacks, the worker's in-flight rows and its breakage counts are let go
    once their transaction or delivery is over (a bot runs for months)."""
    from storage import database

    rider = stage.person()
    await stage.send(rider.text("/start"))
    for n in range(20):
        with pytest.raises(RuntimeError):
            async with stage.services.db.transaction() as conn:
                database.after_commit(conn, lambda: None)
                raise RuntimeError(n)
        await say_to(stage, rider.id, f"第{n}条")
    await stage.delivered()
    await worker(stage).stop()  # no transaction of the worker's is open now
    assert database._after_commit == {}
    assert worker(stage)._busy == set() and worker(stage)._broke == {}
    assert not worker(stage)._tasks


async def test_a_card_pressed_before_its_delivery_was_recorded_works(stage: Stage) -> None:
    """The card appears and 张三 presses 受理 at once, before the bot has written down the
    card's message id (the database slow for a moment): the press must work, not be told
    "这个按钮已失效"."""
    zhang = staff_of(stage, "dongguan", "张三")
    courier = worker(stage).couriers["telegram"]
    real = courier.post_card
    pressed: list[bool] = []

    async def press_at_once(chat: Any, card: Any, **kwargs: Any) -> Any:
        posted = await real(chat, card, **kwargs)
        if not pressed:
            pressed.append(True)
            message = stage.tg.message(posted[-1].chat_id, posted[-1].message_id)
            asyncio.get_running_loop().create_task(
                stage.app.process_update(
                    Update.de_json(zhang.press(message, "✋ 受理"), stage.app.bot)
                )
            )
            await asyncio.sleep(0.2)
        return posted

    courier.post_card = press_at_once  # type: ignore[method-assign]
    await reported(stage)
    await stage.until(lambda: pressed)
    await asyncio.sleep(0.5)
    await stage.delivered()
    assert not any(a.get("show_alert") for a in stage.tg.callback_answers[-1:])
    assert await status(stage) == "accepted"


async def test_a_step_taken_while_the_card_is_on_its_way_shows_on_it(stage: Stage) -> None:
    """The card is drawn, then Telegram takes its time; meanwhile someone accepts the report
    from the web console (no card to redraw yet). The card that lands must not stay at
    待受理: it is redrawn once its delivery is recorded."""
    from bot.people.staff import Seat

    slow_cards(stage, 1.5)
    stage.deliver_after_send = False
    await reported(stage)
    people = stage.services.staff
    person = await people.create("刘芳")
    await people.grant(person.id, "dongguan")
    await stage.until(lambda: worker(stage).couriers["telegram"] is not None)
    await asyncio.sleep(0.5)  # the card is drawn and on its way
    assert not card_parts(stage, "dongguan")
    await stage.services.casework.accept(Seat(person, "dongguan"), 1)
    await stage.until(lambda: card_parts(stage, "dongguan"), timeout=10)
    await stage.delivered(timeout=10)
    assert "状态：处理中（刘芳）" in words(card_of(stage, "dongguan"))
    assert card_parts(stage, "dongguan") == ["card"]  # redrawn in place, not posted again
