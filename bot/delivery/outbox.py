"""The one door every outgoing message leaves through: put in the outbox, delivered later.

The application calls these inside the transaction of the change that causes the message
(a report created, accepted, resolved...), so a message exists exactly when its change
does: a crash can lose neither half. The worker (worker.py) delivers each chat's messages
in order through the chat's channel. Messages that need an id only known on delivery say
what to do with it (`link`: remember the message as part of a report's conversation;
`prompt`: remember it as a question to staff), and replies to a message not yet known say
which one they mean (`reply_to="card"`: the report's card in that chat).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.config import ChatTarget
from bot.delivery.codec import dump_reply
from bot.domain.geo import LatLon
from bot.messages import Reply
from storage import outbox as rows
from storage.database import after_commit

TELEGRAM = "telegram"
WEB = "web"  # the rider's page: a web rider's messages (handlers/web/courier.py)


class Outbox:
    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self._wakers: list[Callable[[], None]] = []

    def on_put(self, wake: Callable[[], None]) -> None:
        """Call `wake` after a transaction that put something in has committed."""
        self._wakers.append(wake)

    async def _put(
        self,
        conn: AsyncConnection,
        target: ChatTarget,
        kind: str,
        payload: dict[str, Any],
        *,
        report_id: int | None = None,
        collapse_key: str | None = None,
        channel: str = TELEGRAM,
    ) -> None:
        added = await rows.put(
            conn,
            channel=channel,
            chat_id=target.chat_id,
            thread_id=target.topic_id,
            kind=kind,
            payload=payload,
            at=self.clock.now(),
            report_id=report_id,
            collapse_key=collapse_key,
        )
        if added:
            for wake in self._wakers:
                after_commit(conn, wake)

    async def message(
        self,
        conn: AsyncConnection,
        target: ChatTarget,
        reply: Reply,
        *,
        report_id: int | None = None,
        link: str | None = None,
        reply_to: int | str | None = None,
        rider_id: int | None = None,
        prompt: dict[str, Any] | None = None,
        event: dict[str, Any] | None = None,
        from_rider: int | None = None,
        channel: str = TELEGRAM,
    ) -> None:
        """A message (in as many parts as the channel needs).

        `link`: each part delivered is linked to the report as this kind ("relay", "ticket",
        "notice"...). `reply_to`: a message id, or a link kind of the report in that chat.
        `rider_id`: the message is for this rider; whether it reached them is remembered.
        `prompt`: {"action", "staff_id"}: a question to staff, answered by replying to it.
        `event`: {"kind", "role", "actor", "data"}: recorded in the report's history once the
        message is delivered (a relayed reply is history only if it arrived).
        `from_rider`: the words are this rider's (relayed to staff): told if they never arrive.
        """
        payload: dict[str, Any] = {"reply": dump_reply(reply)}
        for key, value in (
            ("link", link),
            ("reply_to", reply_to),
            ("rider_id", rider_id),
            ("prompt", prompt),
            ("event", event),
            ("from_rider", from_rider),
        ):
            if value is not None:
                payload[key] = value
        # The same question asked again before the first was delivered is one question.
        collapse = None
        if prompt is not None and report_id is not None:
            collapse = f"prompt:{report_id}:{prompt['action']}:{prompt['staff_id']}"
        await self._put(
            conn,
            target,
            "message",
            payload,
            report_id=report_id,
            collapse_key=collapse,
            channel=channel,
        )

    async def card(
        self,
        conn: AsyncConnection,
        report_id: int,
        target: ChatTarget,
        *,
        event: str | None = "dispatched",
        fallback_reason: str | None = None,
    ) -> None:
        """A report's card, drawn as the report stands when it is delivered.

        `event`: what posting it means ("dispatched", "transferred"); None for a copy (an
        escalation), which never moves the report. `fallback_reason`: the supervisors get
        it because the community's chat refused it.
        """
        payload: dict[str, Any] = {"event": event}
        if fallback_reason is not None:
            payload["fallback_reason"] = fallback_reason
        await self._put(conn, target, "card", payload, report_id=report_id)

    async def card_edit(
        self, conn: AsyncConnection, report_id: int, chats: Iterable[ChatTarget]
    ) -> None:
        """Redraw the report's card in these chats; edits not yet made collapse into one."""
        for chat in {c.chat_id: c for c in chats}.values():
            await self._put(
                conn, chat, "card_edit", {}, report_id=report_id, collapse_key=f"card:{report_id}"
            )

    async def edit(
        self,
        conn: AsyncConnection,
        target: ChatTarget,
        reply: Reply,
        *,
        report_id: int | None = None,
        message_id: int | None = None,
        link: str | None = None,
        caption: bool = False,
        channel: str = TELEGRAM,
    ) -> None:
        """Replace a message's words: `message_id`, or the report's latest `link` there."""
        payload: dict[str, Any] = {"reply": dump_reply(reply), "caption": caption}
        if message_id is not None:
            payload["message_id"] = message_id
        if link is not None:
            payload["link"] = link
        await self._put(conn, target, "edit", payload, report_id=report_id, channel=channel)

    async def signin_link(
        self, conn: AsyncConnection, target: ChatTarget, payload: dict[str, Any]
    ) -> None:
        """A one-time sign-in link to the staff console, made only when it is delivered (so
        no usable link waits in the outbox): bot/people/signin_step.py."""
        await self._put(conn, target, "signin_link", payload)

    async def pin(
        self, conn: AsyncConnection, report_id: int, target: ChatTarget, point: LatLon, under: int
    ) -> None:
        """The location pin as a reply to the card `under`."""
        payload = {"lat": point.lat, "lon": point.lon, "reply_to": under}
        await self._put(conn, target, "pin", payload, report_id=report_id)
