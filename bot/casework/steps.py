"""The steps of casework, the same whoever takes them and from wherever.

Every step goes through lifecycle.decide (is it allowed, for whom) and then a
compare-and-set update, so two people pressing at once get one winner and a clear answer
for the other. Each step is an event, edits the card wherever it stands, and tells the
rider (and riders who joined the report with +1).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import callbacks, texts
from bot.casework.access import Access
from bot.casework.cards import (
    SUPERVISORS,
)
from bot.casework.dispatch import Dispatcher, captioned
from bot.casework.rider_answers import RiderAnswers
from bot.casework.rider_notices import RiderNotices
from bot.clock import Clock
from bot.config import ChatTarget, Config
from bot.delivery.outbox import Outbox
from bot.domain.lifecycle import (
    Action,
    Actor,
    Refused,
    Role,
    Status,
    decide,
)
from bot.intake.photo_input import FetchError, PhotoInput
from bot.messages import Button, Reply
from storage import reports
from storage.database import Database
from storage.photo_checks import PhotoRejected
from storage.photos import PhotoStore
from storage.records import Report

log = logging.getLogger(__name__)

NOTE_MAX = 800  # a resolution note or a relayed message, in characters (the outbox splits)


class Steps:
    """The engine of casework: every step decided, compare-and-set, recorded, its cards
    redrawn and its notices put in the outbox, in one transaction."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        photos: PhotoStore,
        outbox: Outbox,
        clock: Clock,
        dispatcher: Dispatcher,
        access: Access,
    ) -> None:
        self.config = config
        self.access = access
        self.notices = RiderNotices(config=config, outbox=outbox)
        self.db = db
        self.photos = photos
        self.outbox = outbox
        self.clock = clock
        self.cards = dispatcher
        self.lang = config.language
        self.answers = RiderAnswers(self)

    async def _load(self, report_id: int) -> Report:
        """The report a button names; a vanished one makes the button stale."""
        report = await self.find(report_id)
        if report is None:
            raise Refused("refused.stale")
        return report

    async def step(
        self,
        report: Report,
        actor: Actor,
        action: Action,
        event: str | None = None,
        data: dict[str, Any] | None = None,
        after: After | None = None,
        **values: Any,
    ) -> Report:
        """Decide, compare-and-set, record the event, have the cards redrawn, and put what
        follows (`after`: notices...) in the outbox, all in one transaction."""
        new = decide(Status(report.status), report.handler_id, actor, action)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            changed = await reports.transition(
                conn,
                report.id,
                expected_status=report.status,
                expected_handler=report.handler_id,
                # The desk it was decided for, and the resolution it was decided on: a
                # step read before a transfer, or before "not fixed" and a new
                # resolution, must not land (the sweep reads every report, then works
                # through them at Telegram's pace).
                expected={
                    "community_id": report.community_id,
                    "resolve_count": report.resolve_count,
                },
                status=new.value,
                **values,
            )
            if not changed:
                fresh = await reports.get(conn, report.id)
                assert fresh is not None
                # Someone else got there first: explain from the state they left.
                try:
                    decide(Status(fresh.status), fresh.handler_id, actor, action)
                except Refused as exc:
                    exc.values.setdefault("name", fresh.handler_name or "?")
                    raise
                raise Refused("refused.changed")
            await reports.add_event(
                conn,
                report.id,
                event or _EVENT[action],
                actor.role.value,
                actor.id,
                now,
                **({"name": actor.name} if actor.name else {}),
                **(data or {}),
            )
            updated = await reports.get(conn, report.id)
            assert updated is not None
            await self.cards.refresh(report.id, conn)
            if after is not None:
                await after(conn, updated)
        return updated

    def _then_tell(self, key: str, told: list[bool] | None = None, **kwargs: Any) -> After:
        """An `after` that tells the rider `key` (and notes in `told` whether they can hear)."""

        async def tell(conn: AsyncConnection, report: Report) -> None:
            reached = await self.notices.tell(conn, report, key, **kwargs)
            if told is not None:
                told.append(reached)

        return tell

    async def apply_accept(self, report: Report, actor: Actor) -> Report:
        """The actor takes the report: it is theirs to resolve (or a supervisor's)."""
        return await self.step(
            report,
            actor,
            Action.ACCEPT,
            handler_id=actor.id,
            handler_name=actor.name,
            accepted_at=report.accepted_at or self.clock.now(),
            after=self._then_tell("notice.accepted"),
        )

    async def apply_resolve(self, report: Report, actor: Actor, note: str, photo: Any) -> bool:
        """Resolve and ask the rider 已解决？; whether the question reached the rider."""
        now = self.clock.now()
        data = {"note": note, "photo": photo.sha256 if photo else None}
        buttons = (
            (
                Button(
                    texts.t(self.lang, "button.fixed"), callbacks.encode("r", report.id, "fb", "y")
                ),
                Button(
                    texts.t(self.lang, "button.not_fixed"),
                    callbacks.encode("r", report.id, "fb", "n"),
                ),
            ),
        )
        told: list[bool] = []
        await self.step(
            report,
            actor,
            Action.RESOLVE,
            data=data,
            resolved_at=now,
            resolve_count=report.resolve_count + 1,
            after=self._then_tell(
                "notice.resolved",
                told,
                photo=photo.path if photo else None,
                ask_buttons=buttons,
                note=note,
            ),
        )
        return all(told)

    async def apply_reject(
        self, report: Report, actor: Actor, reason: str, duplicate_of: int | None = None
    ) -> bool:
        """Close with a reason; whether the rider was told."""
        now = self.clock.now()
        data: dict[str, Any] = {"reason": reason}
        if duplicate_of:
            data["duplicate_of"] = duplicate_of
        reason_text = texts.t(self.lang, f"reject.{reason}")
        if duplicate_of:
            reason_text = texts.Html(f"{reason_text} #{duplicate_of}")  # escaped once
        told: list[bool] = []
        tell = self._then_tell("notice.rejected", told, reason=reason_text)

        async def after(conn: AsyncConnection, updated: Report) -> None:
            if duplicate_of:
                await self._merge_followers(conn, updated, duplicate_of)
            await tell(conn, updated)

        await self.step(
            report,
            actor,
            Action.REJECT,
            data=data,
            closed_at=now,
            outcome="rejected",
            close_reason=reason,
            duplicate_of=duplicate_of,
            after=after,
        )
        return all(told)

    async def apply_transfer(self, report: Report, actor: Actor, target: str) -> str:
        target_id = None if target == SUPERVISORS else target
        if target_id is not None and self.config.community(target_id) is None:
            raise Refused("refused.stale")
        if target_id == report.community_id:
            raise Refused("refused.same_community")
        old_chat = self.cards.target_for(report.community_id)
        place = self.config.desk_name(target_id)
        tell = self._then_tell("notice.transferred", place=place)

        async def after(conn: AsyncConnection, updated: Report) -> None:
            # The old desk's card says where the report went (it is not theirs any more)...
            links = await reports.card_messages_of(conn, report.id)
            old = [c for c in links if c.kind == "card" and c.chat_id == old_chat.chat_id]
            await reports.set_card_kind(conn, report.id, old_chat.chat_id, "moved")
            if old:
                await self.outbox.edit(
                    conn,
                    ChatTarget(old[-1].chat_id, old[-1].thread_id),
                    Reply(texts.t(self.lang, "card.moved", ticket=report.id, place=place)),
                    report_id=report.id,
                    message_id=old[-1].message_id,
                    caption=captioned(updated, old[-1], links),
                )
            # ...and the new desk gets the live card.
            await self.cards.put_card(conn, updated, event="transferred")
            await tell(conn, updated)

        await self.step(
            report,
            actor,
            Action.TRANSFER,
            data={"from": report.community_id, "to": target_id or SUPERVISORS},
            community_id=target_id,
            handler_id=None,
            handler_name=None,
            transfer_count=report.transfer_count + 1,
            after=after,
        )
        return place

    async def _merge_followers(
        self, conn: AsyncConnection, report: Report, original_id: int
    ) -> None:
        """The riders of a duplicate follow the original report from now on."""
        now = self.clock.now()
        original = await reports.get(conn, original_id)
        if original is None:
            return
        for rider_id in [report.rider_id, *await reports.follower_ids(conn, report.id)]:
            if rider_id != original.rider_id:
                await reports.add_follower(conn, original_id, rider_id, now)
        await self.cards.refresh(original_id, conn)

    async def find(self, report_id: int) -> Report | None:
        async with self.db.transaction() as conn:
            return await reports.get(conn, report_id)

    async def store_photo(self, photo: PhotoInput) -> Any:
        try:
            return await self.photos.save(await photo.fetch())
        except (PhotoRejected, FetchError) as exc:  # a photo is optional; keep the words
            log.warning("after-photo not kept", extra={"reason": str(exc)})
            return None

    async def auto_close(self, report: Report) -> bool:
        """Nobody answered 已解决？ in time: closed as fixed, and the rider is told."""
        hours = int(self.config.casework.confirm_window.total_seconds() // 3600)
        try:
            await self.step(
                report,
                Actor(Role.SYSTEM),
                Action.AUTO_CLOSE,
                event="auto_closed",
                closed_at=report.resolved_at,
                outcome="fixed",
                close_reason="auto",
                after=self._then_tell("notice.auto_closed", hours=hours),
            )
        except Refused:
            return False
        return True

    def then_tell_staff(self, key: str) -> After:
        async def tell(conn: AsyncConnection, report: Report) -> None:
            reply = Reply(texts.t(self.lang, key, ticket=report.id))
            await self.post_to_staff(conn, report, reply)

        return tell

    async def post_to_staff(
        self,
        conn: AsyncConnection,
        report: Report,
        reply: Reply,
        *,
        event: dict[str, Any] | None = None,
        from_rider: int | None = None,
    ) -> None:
        """A message under the report's card (put in the outbox); staff replying to it
        reach the rider. `event` is recorded once it arrived; `from_rider` hears if not."""
        links = await reports.card_messages_of(conn, report.id)
        mine = self.cards.target_for(report.community_id)
        cards = [c for c in links if c.kind == "card"]
        here = [c for c in cards if c.chat_id == mine.chat_id] or cards
        target = ChatTarget(here[-1].chat_id, here[-1].thread_id) if here else mine
        await self.outbox.message(
            conn,
            target,
            reply,
            report_id=report.id,
            link="notice",
            reply_to="card",
            event=event,
            from_rider=from_rider,
        )


After = Callable[[AsyncConnection, Report], Awaitable[None]]

_EVENT = {
    Action.ACCEPT: "accepted",
    Action.RESOLVE: "resolved",
    Action.TRANSFER: "transferred",
    Action.REJECT: "rejected",
}
