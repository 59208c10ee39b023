"""/web in a dispatcher chat: a one-time sign-in link to the console, in a private message.

The command puts a `signin_link` message in the outbox for the person's private chat; the
link itself is made only when the worker delivers it, so no usable link ever waits in the
database (a try that fails voids its link, and the next try makes another). A person the
bot cannot write to privately (they never started it, or blocked it) is told in the group
to /start the bot first: the link is never posted in the group.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import texts
from bot.config import ChatTarget, Config
from bot.delivery.outbox import Outbox
from bot.domain.desks import desk_at
from bot.messages import Outcome, Reply, say
from bot.people.signin import SIGNIN_TTL, StaffLinks
from bot.people.staff import COUNTY, StaffDirectory
from bot.ports import Courier, DeliveryError
from storage import outbox as rows
from storage.database import Database

KIND = "signin_link"
# Links one person may ask for with /web: each is a private message and a live credential,
# so a person (or a script in their account) pressing /web again and again gets a few.
LINKS_PER_WINDOW = 3
WINDOW = timedelta(minutes=10)


class SigninStep:
    """Asks for a link (`ask`), and delivers it (`deliver`, `failed`: an outbox step)."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        outbox: Outbox,
        staff: StaffDirectory,
        links: StaffLinks,
    ) -> None:
        self.config = config
        self.db = db
        self.outbox = outbox
        self.staff = staff
        self.links = links
        self.lang = config.language

    async def ask(
        self, where: ChatTarget, user_id: int, name: str, *, anonymous: bool = False
    ) -> Outcome:
        """/web in a chat: the desk is the chat's; the link goes to the person privately."""
        desk = desk_at(self.config, where.chat_id, where.topic_id)
        if desk is None:
            return say(texts.t(self.lang, "console.web_not_desk"))
        if anonymous:  # an anonymous admin: nobody to write to
            return say(texts.t(self.lang, "console.web_anonymous"))
        person = await self.staff.from_account("telegram", str(user_id), name)
        if person.revoked:  # revoked people get no console, whatever chat they are in
            return say(texts.t(self.lang, "refused.revoked"))
        desk_id = desk.id
        async with self.db.transaction() as conn:
            since = self.outbox.clock.now() - WINDOW
            asked = await rows.recent(
                conn, channel="telegram", chat_id=user_id, kind=KIND, since=since
            )
        if asked >= LINKS_PER_WINDOW:
            minutes = int(WINDOW.total_seconds() // 60)
            return say(texts.t(self.lang, "console.web_too_often", minutes=minutes))
        await self.staff.grant(person.id, desk_id)
        payload = {
            "staff_id": person.id,
            "desk": desk_id,
            "name": name,
            "user_id": user_id,
            "group": [where.chat_id, where.topic_id],
        }
        async with self.db.transaction() as conn:
            await self.outbox.signin_link(conn, ChatTarget(user_id), payload)
        minutes = int(SIGNIN_TTL.total_seconds() // 60)
        return say(texts.t(self.lang, "console.web_sent", minutes=minutes))

    async def deliver(self, row: rows.Row, courier: Courier) -> None:
        payload = row.payload
        person = await self.staff.get(int(payload["staff_id"]))
        desk = str(payload["desk"])
        if person is None or person.revoked:
            async with self.db.transaction() as conn:
                await rows.settle(conn, row.id, rows.DROPPED, _now(), "revoked")
            return
        link = await self.links.signin(person, desk)
        minutes = int(SIGNIN_TTL.total_seconds() // 60)
        place = self.config.desk_name(None if desk == COUNTY else desk)
        text = texts.t(
            self.lang,
            "console.web_link",
            url=texts.Html(f'<a href="{html.escape(link.url)}">{html.escape(link.url)}</a>'),
            desk=place,
            minutes=minutes,
        )
        try:
            sent = await courier.send_parts(ChatTarget(row.chat_id), Reply(text))
        except DeliveryError:
            await self.links.void(link.url)
            raise
        async with self.db.transaction() as conn:
            await rows.settle(conn, row.id, rows.SENT, _now(), sent)

    async def failed(self, row: rows.Row, error: DeliveryError) -> None:
        """Never reached them: the group hears how to fix it (never the link itself)."""
        payload: dict[str, Any] = row.payload
        chat_id, topic_id = payload["group"]
        mention = texts.Html(
            f'<a href="tg://user?id={int(payload["user_id"])}">'
            f"{html.escape(str(payload.get('name') or '?'))}</a>"
        )
        key = "console.web_start_first" if error.unreachable else "console.web_undelivered"
        async with self.db.transaction() as conn:
            await rows.settle(conn, row.id, rows.FAILED, _now(), error.reason)
            await self.outbox.message(
                conn,
                ChatTarget(chat_id, topic_id),
                Reply(texts.t(self.lang, key, staff=mention, reason=error.reason)),
            )


def _now() -> datetime:
    return datetime.now(UTC)
