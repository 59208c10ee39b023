"""Killed while posting a card: after a restart the work resumes within seconds.

The rider's ticket never waits for the card (both are put in the outbox with the report,
for different chats), and a start delivers what an earlier run left undelivered, without
waiting for the deadline sweep. The kill is played by stopping the bot with the delivery
under way left unfinished and its claim held (tests/test_crash.py kills a real process).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from storage.tables import outbox
from tests.conftest import Stage, start_app, stop_app
from tests.fake_telegram import Person
from tests.test_faults import card_parts, ready_to_submit, status


async def hang(*args: Any, **kwargs: Any) -> Any:
    """A call that never returns: the process dies while it is under way."""
    await asyncio.Event().wait()


async def killed_while_submitting(stage: Stage, rider: Person, until: Any) -> None:
    """Press Submit, wait until `until()` holds, then kill the bot where it stands."""
    summary = await ready_to_submit(stage, rider)
    stage.deliver_after_send = False
    await stage.send(rider.press(summary, "✅ 提交"))
    await stage.until(until)
    await kill(stage)


async def kill(stage: Stage) -> None:
    """Stop the bot as a kill would leave things: deliveries under way never finish, and
    what they claimed stays claimed. Then start it again a few seconds later."""
    await stage.services.delivery.stop(grace=0)
    await stop_app(stage.app)
    stage.clock.advance(seconds=5)  # the restart: a few seconds, far from the next sweep
    stage.app = await start_app(stage.config, stage.tg, stage.clock)
    stage.deliver_after_send = True


async def ticket_recorded(stage: Stage, rider: Person) -> None:
    """Until every message to the rider is delivered and written down."""
    while True:
        async with stage.services.db.transaction() as conn:
            states = await conn.execute(select(outbox.c.state).where(outbox.c.chat_id == rider.id))
            if (found := list(states.scalars())) and all(s != "pending" for s in found):
                return
        await asyncio.sleep(0.01)


async def reaches(stage: Stage, wanted: str) -> None:
    """Until report #1 exists in the state `wanted`."""
    while True:
        try:
            if await status(stage) == wanted:
                return
        except NoResultFound:  # not committed yet
            pass
        await asyncio.sleep(0.01)


def tickets_of(stage: Stage, rider: Person) -> list[str]:
    return [m["text"] for m in stage.tg.bot_messages(rider.id) if "工单号" in m.get("text", "")]


async def test_the_rider_has_the_ticket_before_the_card_and_the_card_comes_after_a_restart(
    stage: Stage,
) -> None:
    rider = stage.person()
    posting: list[Any] = []

    async def post_card(*args: Any, **kwargs: Any) -> Any:
        posting.append(args)
        await hang()

    stage.services.courier.post_card = post_card  # type: ignore[method-assign]
    # Killed while posting the card, once the ticket (sent beside it) is written down: a kill
    # between a message and its record sends it again (at least once; test_crash counts it).
    summary = await ready_to_submit(stage, rider)
    stage.deliver_after_send = False
    await stage.send(rider.press(summary, "✅ 提交"))
    await stage.until(lambda: posting)
    await ticket_recorded(stage, rider)
    await kill(stage)
    # Killed while posting the card: the rider already has the ticket.
    assert len(tickets_of(stage, rider)) == 1
    assert "工单号 #1，正在派往「西关社区」" in tickets_of(stage, rider)[0]
    assert stage.chat_messages("xiguan") == []
    # The new run posts it within seconds, not at the sweep's pace (the clock stands still).
    await stage.until(lambda: card_parts(stage, "xiguan") == ["card"])
    await asyncio.wait_for(reaches(stage, "dispatched"), 5)
    # The ticket, still one message, now says where the report went.
    await stage.until(lambda: "已派往「西关社区」" in tickets_of(stage, rider)[0])
    assert len(tickets_of(stage, rider)) == 1
    assert stage.chat_messages("supervisors") == []


async def test_killed_before_anything_went_out_the_rider_and_the_desk_get_it_after(
    stage: Stage,
) -> None:
    """Killed right after the report was committed: its ticket and card were in the outbox
    with it, so the next run delivers both within seconds."""
    rider = stage.person()
    await stage.services.delivery.stop()  # nothing is delivered before the kill
    summary = await ready_to_submit(stage, rider)
    stage.deliver_after_send = False
    await stage.send(rider.press(summary, "✅ 提交"))
    await asyncio.wait_for(reaches(stage, "submitted"), 5)  # committed, nothing sent
    assert tickets_of(stage, rider) == [] and stage.chat_messages("xiguan") == []
    await kill(stage)
    await stage.until(lambda: card_parts(stage, "xiguan") == ["card"])
    await stage.until(lambda: "已派往「西关社区」" in tickets_of(stage, rider)[0])
    assert len(tickets_of(stage, rider)) == 1
