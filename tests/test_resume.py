"""Killed while posting a card: after a restart the work resumes within seconds.

The rider's ticket never waits for the card (it goes out as soon as the report is
committed), and a start posts the cards (and sends the tickets) an earlier run left
undelivered, without waiting for the deadline sweep. The kill is played by cancelling the
submit where a killed process would stop: the report is committed, the card is not posted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.exc import NoResultFound

from tests.conftest import Stage, start_app, stop_app
from tests.fake_telegram import Person
from tests.test_faults import card_parts, ready_to_submit, status


async def hang(*args: Any, **kwargs: Any) -> Any:
    """A call that never returns: the process dies while it is under way."""
    await asyncio.Event().wait()


async def killed_while_submitting(stage: Stage, rider: Person, until: Any) -> None:
    """Press Submit, wait until `until()` holds, then kill the bot where it stands."""
    summary = await ready_to_submit(stage, rider)
    pressed = asyncio.create_task(stage.send(rider.press(summary, "✅ 提交")))
    await stage.until(until)
    pressed.cancel()  # nothing after this point runs, as with SIGKILL
    await asyncio.gather(pressed, return_exceptions=True)
    await stop_app(stage.app)
    stage.clock.advance(seconds=5)  # the restart: a few seconds, far from the next sweep
    stage.app = await start_app(stage.config, stage.tg, stage.clock)


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

    async def post_card(*args: Any) -> Any:
        posting.append(args)
        await hang()

    stage.services.notifier.post_card = post_card  # type: ignore[method-assign]
    await killed_while_submitting(stage, rider, lambda: posting)
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


async def test_killed_before_the_ticket_went_out_the_rider_gets_it_after_the_restart(
    stage: Stage,
) -> None:
    rider = stage.person()
    stage.services.tickets.announce = hang  # type: ignore[method-assign]

    summary = await ready_to_submit(stage, rider)
    pressed = asyncio.create_task(stage.send(rider.press(summary, "✅ 提交")))
    await asyncio.wait_for(reaches(stage, "submitted"), 5)  # committed, nothing sent
    pressed.cancel()
    await asyncio.gather(pressed, return_exceptions=True)
    await stop_app(stage.app)
    assert tickets_of(stage, rider) == [] and stage.chat_messages("xiguan") == []
    stage.clock.advance(seconds=5)
    stage.app = await start_app(stage.config, stage.tg, stage.clock)
    await stage.until(lambda: card_parts(stage, "xiguan") == ["card"])
    await stage.until(lambda: "已派往「西关社区」" in tickets_of(stage, rider)[0])
    assert len(tickets_of(stage, rider)) == 1


async def test_a_report_submitted_after_the_start_is_not_posted_twice(stage: Stage) -> None:
    """The start's catch-up leaves a report of the running process to its own submit, even
    when it runs while that submit is still posting the card."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    started = stage.clock.now()  # the clock has not moved since the start
    post_card = stage.services.notifier.post_card
    caught_up: list[int] = []

    async def post_card_meanwhile(*args: Any) -> Any:
        if not caught_up:  # the catch-up comes round while the submit posts the card
            caught_up.append(await stage.services.tickets.resume(started))
        return await post_card(*args)

    stage.services.notifier.post_card = post_card_meanwhile  # type: ignore[method-assign]
    await stage.send(rider.press(summary, "✅ 提交"))
    assert caught_up == [0]
    assert card_parts(stage, "xiguan") == ["card"]
    assert len(tickets_of(stage, rider)) == 1
