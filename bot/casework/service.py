"""Staff work a report from its card: accept, resolve, transfer, reject, and talk to the rider.

Every step goes through lifecycle.decide (is it allowed, for whom) and then a
compare-and-set update, so two people pressing at once get one winner and a clear answer
for the other. Each step is an event, edits the card wherever it stands, and tells the
rider (and riders who joined the report with +1).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import callbacks, texts
from bot.callbacks import Callback
from bot.casework.access import Access
from bot.casework.cards import (
    SUPERVISORS,
    card_buttons,
    card_reply,
    card_text,
    history_line,
    reject_buttons,
    transfer_buttons,
)
from bot.casework.dispatch import Dispatcher, Pin, captioned
from bot.casework.rider_answers import RiderAnswers
from bot.casework.rider_notices import FOLLOWER_LINK, REPORTER_LINK, RiderNotices
from bot.clock import Clock
from bot.config import ChatTarget, Config
from bot.delivery.outbox import Outbox
from bot.domain.desks import desk_at
from bot.domain.lifecycle import (
    FINAL,
    REJECT_REASONS,
    Action,
    Actor,
    Refused,
    Role,
    Status,
    decide,
)
from bot.domain.numbers import parse_ticket_id
from bot.intake.stepwise import FetchError, PhotoInput
from bot.messages import Button, Outcome, Reply, say
from bot.people.riders import RiderCtx
from storage import outbox as outbox_rows
from storage import reports, riders
from storage.database import Database
from storage.photos import PhotoRejected, PhotoStore
from storage.records import CardMessage, Report, Rider

log = logging.getLogger(__name__)

OPEN_CARDS = 50  # a returning rider's latest reports whose cards are redrawn
NOTE_MAX = 800  # a resolution note or a relayed message, in characters (the outbox splits)
RECORDING_WAIT = 10.0  # s: a reply to a message still being recorded waits this long at most
TICKET_LINES = 30  # /ticket shows the latest steps (the outbox splits a long history)


@dataclass(frozen=True)
class Staff:
    """A person acting in a dispatcher chat, as that chat knows them."""

    id: int
    name: str


@dataclass(frozen=True)
class Where:
    chat_id: int
    topic_id: int | None = None


class Casework:
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

    # ---- who may act ------------------------------------------------------------------

    def role_in(self, where: Where, report: Report) -> Role:
        """Staff of the owning community's chat, or supervisors; anyone else is refused."""
        if self.cards.target_for(report.community_id).covers(where.chat_id, where.topic_id):
            return Role.STAFF
        if self.cards.supervisors.covers(where.chat_id, where.topic_id):
            return Role.SUPERVISOR
        raise Refused("refused.wrong_chat")

    async def _staff_actor(self, where: Where, staff: Staff, report: Report) -> Actor:
        """The desk's role, for someone who belongs to the desk's chat now."""
        role = self.role_in(where, report)
        await self.access.require_member(where.chat_id, staff.id)
        return Actor(role, staff.id, staff.name)

    async def _load(self, report_id: int) -> Report:
        """The report a button names; a vanished one makes the button stale."""
        report = await self.find(report_id)
        if report is None:
            raise Refused("refused.stale")
        return report

    def _refusal(self, exc: Refused, report: Report | None = None) -> Outcome:
        values = dict(exc.values)
        if report is not None:
            values.setdefault("name", report.handler_name or "?")
            values.setdefault("ticket", report.id)
        return Outcome(toast=texts.t(self.lang, exc.key, **values), alert=True)

    # ---- buttons on the card ----------------------------------------------------------

    async def press(
        self, where: Where, staff: Staff, cb: Callback, message_id: int | None
    ) -> Outcome:
        """A press on the message `message_id`: it must be this report's card, here."""
        report = None
        try:
            report = await self._load(cb.target)
            self.role_in(where, report)
            if await self._require_card(where, message_id, report):
                report = await self._load(cb.target)  # as the card's delivery left it
            actor = await self._staff_actor(where, staff, report)
            if cb.action == "pin" and message_id is not None:
                return await self._pin(where, report, message_id)
            return await self._press(where, actor, report, cb)
        except Refused as exc:
            return self._refusal(exc, report)

    async def _require_card(self, where: Where, message_id: int | None, report: Report) -> bool:
        """The pressed message is the report's card here; one pressed the moment it
        appeared may not be written down yet (its delivery still being recorded): whether
        the press waited for that."""
        try:
            await self.access.require_origin(where.chat_id, message_id, report.id)
        except Refused:
            if not await self._recorded(where.chat_id):
                raise
            await self.access.require_origin(where.chat_id, message_id, report.id)
            return True
        return False

    async def _pin(self, where: Where, report: Report, message_id: int) -> Outcome:
        """The location pin under the pressed card (checked to be this report's card here)."""
        card = CardMessage(report.id, where.chat_id, where.topic_id, message_id, "card")
        sent = await self.cards.send_pin(card)
        key = "staff.pin_sent" if sent is Pin.SENT else "staff.pin_recent"
        return Outcome(toast=texts.t(self.lang, key))

    async def _press(self, where: Where, actor: Actor, report: Report, cb: Callback) -> Outcome:
        status = Status(report.status)
        lang = self.lang
        if cb.action == "acc":
            await self.step(
                report,
                actor,
                Action.ACCEPT,
                handler_id=actor.id,
                handler_name=actor.name,
                accepted_at=report.accepted_at or self.clock.now(),
                after=self._then_tell("notice.accepted"),
            )
            return Outcome(toast=texts.t(lang, "staff.accepted", ticket=report.id))
        if cb.action == "res":
            decide(status, report.handler_id, actor, Action.RESOLVE)
            await self._ask(where, report, actor, "resolve", "staff.ask_resolution")
            return Outcome(toast=texts.t(lang, "staff.reply_to_prompt"))
        if cb.action == "trm":
            decide(status, report.handler_id, actor, Action.TRANSFER)
            return await self._menu(report, transfer_buttons(self.config, report, lang))
        if cb.action == "tr" and cb.arg:
            return await self.transfer(report, actor, cb.arg)
        if cb.action == "rjm":
            decide(status, report.handler_id, actor, Action.REJECT)
            return await self._menu(report, reject_buttons(report, lang))
        if cb.action == "rj" and cb.arg in REJECT_REASONS:
            if cb.arg == "duplicate":
                decide(status, report.handler_id, actor, Action.REJECT)
                await self._ask(where, report, actor, "duplicate", "staff.ask_duplicate")
                return Outcome(toast=texts.t(lang, "staff.reply_to_prompt"))
            told = await self.reject(report, actor, cb.arg)
            return Outcome(toast=self._rejected(report, told))
        if cb.action == "back":
            return await self._menu(report, card_buttons(report, lang))
        raise Refused("refused.stale")

    async def _menu(self, report: Report, buttons: Any) -> Outcome:
        async with self.db.transaction() as conn:
            view = await self.cards.view(conn, report)
        return Outcome(edit=card_reply(self.config, report, view, self.lang, buttons))

    async def _ask(
        self, where: Where, report: Report, actor: Actor, action: str, key: str
    ) -> None:
        """Ask the staff member for text by a message they answer with a reply."""
        mention = texts.Html(
            f'<a href="tg://user?id={actor.id}">{html.escape(actor.name or "")}</a>'
        )
        async with self.db.transaction() as conn:
            await self.outbox.message(
                conn,
                ChatTarget(where.chat_id, where.topic_id),
                Reply(texts.t(self.lang, key, staff=mention, ticket=report.id), force_reply=True),
                report_id=report.id,
                reply_to="card",
                prompt={"action": action, "staff_id": actor.id or 0},
            )

    # ---- the steps --------------------------------------------------------------------

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

    async def resolve(self, report: Report, actor: Actor, note: str, photo: Any) -> bool:
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

    async def reject(
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

    def _rejected(self, report: Report, told: bool) -> texts.Html:
        """Staff's answer says the rider was told only when they were."""
        key = "staff.rejected" if told else "staff.rejected_untold"
        return texts.t(self.lang, key, ticket=report.id)

    async def transfer(self, report: Report, actor: Actor, target: str) -> Outcome:
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
        return Outcome(
            toast=texts.t(self.lang, "staff.transferred", ticket=report.id, place=place)
        )

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

    # ---- replies in the dispatcher chat (prompts and relays) --------------------------

    async def staff_reply(
        self,
        where: Where,
        staff: Staff,
        reply_to: int,
        text: str,
        photo: PhotoInput | None,
        *,
        to_bot: bool = True,
    ) -> Outcome | None:
        """A reply in a dispatcher chat: the answer to a prompt, or a message for the rider.

        `to_bot`: the replied message is the bot's. One not known yet may be a message whose
        delivery is still being recorded (its id is written down just after Telegram took
        it): the reply waits for that, rather than being ignored."""
        prompt, link = await self._replied(where.chat_id, reply_to)
        if prompt is None and link is None and to_bot and await self._recorded(where.chat_id):
            prompt, link = await self._replied(where.chat_id, reply_to)
        if prompt is not None:
            report_id = prompt.report_id
        elif link is not None and link.kind in ("card", "photo", "location", "notice"):
            report_id = link.report_id
        else:
            return None
        report = None
        try:
            report = await self._load(report_id)
            actor = await self._staff_actor(where, staff, report)
            if prompt is not None:
                return await self._answer_prompt(where, prompt, report, actor, text, photo)
            return await self._relay_to_rider(report, actor, text, photo)
        except Refused as exc:
            refusal = self._refusal(exc, report)
            return say(refusal.toast or "")

    async def _replied(self, chat_id: int, message_id: int) -> tuple[Any, CardMessage | None]:
        """The open prompt, or else the report's message, that `message_id` is."""
        async with self.db.transaction() as conn:
            prompt = await reports.open_prompt(conn, chat_id, message_id)
            link = None if prompt else await reports.link_for_message(conn, chat_id, message_id)
        return prompt, link

    async def _recorded(self, chat_id: int) -> bool:
        """Wait (a little) for the deliveries under way in the chat to be recorded; whether
        there were any."""
        async with self.db.transaction() as conn:
            waiting = await outbox_rows.in_flight(conn, chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECORDING_WAIT
        while waiting and loop.time() < deadline:
            await asyncio.sleep(0.05)
            async with self.db.transaction() as conn:
                if not await outbox_rows.in_flight(conn, chat_id, waiting):
                    break
        return bool(waiting)

    async def _answer_prompt(
        self,
        where: Where,
        prompt: Any,
        report: Report,
        actor: Actor,
        text: str,
        photo: PhotoInput | None,
    ) -> Outcome:
        lang = self.lang
        if prompt.staff_id != actor.id and actor.role is not Role.SUPERVISOR:
            raise Refused("refused.not_your_prompt")
        if prompt.action == "resolve":
            note = " ".join(text.split())[:NOTE_MAX]
            if not note:
                return say(texts.t(lang, "staff.note_needed"))
            stored = await self.store_photo(photo) if photo else None
            asked = await self.resolve(report, actor, note, stored)
            reply = texts.t(
                lang, "staff.resolved" if asked else "staff.resolved_unasked", ticket=report.id
            )
        else:
            original = await self._duplicate_target(where, report, text)
            if original is None:
                return say(texts.t(lang, "staff.bad_duplicate"))
            told = await self.reject(report, actor, "duplicate", duplicate_of=original.id)
            reply = self._rejected(report, told)
        async with self.db.transaction() as conn:
            await reports.answer_prompt(conn, prompt.id, self.clock.now())
        return say(reply)

    async def _duplicate_target(self, where: Where, report: Report, text: str) -> Report | None:
        """The report a duplicate points to: one this desk may see (open or closed), not itself.

        Its riders will follow that report, so it must never be another community's: one
        refusal for "missing", "elsewhere" and "itself", so numbers cannot be probed.
        """
        number = parse_ticket_id(text)
        original = await self.find(number) if number else None
        if original is None or original.id == report.id:
            return None
        try:
            self.role_in(where, original)
        except Refused:
            return None
        return original

    async def find(self, report_id: int) -> Report | None:
        async with self.db.transaction() as conn:
            return await reports.get(conn, report_id)

    async def store_photo(self, photo: PhotoInput) -> Any:
        try:
            return await self.photos.save(await photo.fetch())
        except (PhotoRejected, FetchError) as exc:  # a photo is optional; keep the words
            log.warning("after-photo not kept", extra={"reason": str(exc)})
            return None

    async def _relay_to_rider(
        self, report: Report, actor: Actor, text: str, photo: PhotoInput | None
    ) -> Outcome:
        decide(Status(report.status), report.handler_id, actor, Action.REPLY)
        stored = await self.store_photo(photo) if photo else None
        if not text.strip() and stored is None:
            return say(texts.t(self.lang, "staff.empty_reply"))
        async with self.db.transaction() as conn:
            rider = await riders.get(conn, report.rider_id)
            if rider is None or rider.unreachable_at is not None:
                # Known to have blocked the bot: say so, and claim nothing on the card.
                return say(texts.t(self.lang, "staff.not_relayed"))
            # The reply is in the report's history once it reached the rider (steps.py).
            await self.notices.tell(
                conn,
                report,
                "notice.reply",
                photo=stored.path if stored else None,
                event={
                    "kind": "replied",
                    "role": actor.role.value,
                    "actor": actor.id,
                    "data": {"name": actor.name, "text": text.strip()[:NOTE_MAX]},
                },
                text=text.strip()[:NOTE_MAX] or "📷",
                community=self.config.desk_name(report.community_id),
            )
        return say(texts.t(self.lang, "staff.relayed"))

    async def ticket(self, where: Where, args: list[str]) -> Outcome:
        """/ticket N: the history of a report, for its community's desk or the county's.

        A missing ticket and another desk's get the same answer, so numbers cannot be probed.
        """
        desk = desk_at(self.config, where.chat_id, where.topic_id)
        if desk is None:
            return say(texts.t(self.lang, "stats.not_here"))
        number = parse_ticket_id(args[0]) if args else None
        if number is None:
            return say(texts.t(self.lang, "ticket.usage"))
        report = await self.find(number)
        if report is None or not (
            desk.community is None or report.community_id == desk.community.id
        ):
            return say(texts.t(self.lang, "refused.no_ticket_here", ticket=number))
        async with self.db.transaction() as conn:
            view = await self.cards.view(conn, report)
        lines = [card_text(self.config, report, view, self.lang, history=False)]
        lines.append(texts.t(self.lang, "ticket.history"))
        shown = view.history[-TICKET_LINES:]
        if len(view.history) > len(shown):
            lines.append(
                texts.t(self.lang, "ticket.earlier", count=len(view.history) - len(shown))
            )
        lines += [history_line(self.config, e, self.lang) for e in shown]
        return say("\n".join(lines))

    # ---- the rider's side -------------------------------------------------------------

    async def rider_reply(
        self, ctx: RiderCtx, reply_to: int, text: str, photo: PhotoInput | None
    ) -> Outcome | None:
        """The rider answers a message about a report: relay it under the card."""
        async with self.db.transaction() as conn:
            link = await reports.link_for_message(conn, ctx.chat_id, reply_to)
        if link is None or link.kind not in (REPORTER_LINK, FOLLOWER_LINK):
            return None
        report = await self.find(link.report_id)
        if report is None:
            return None
        if link.kind == FOLLOWER_LINK:
            # A +1 follower is not the reporter: their words do not go under the card.
            return say(texts.t(ctx.lang, "follow.no_reply", ticket=report.id))
        answer = await self.answers.reply(ctx, report.id, text, photo)
        return say(answer.text(ctx.lang))

    async def feedback(
        self, ctx: RiderCtx, report_id: int, fixed: bool, message_id: int | None
    ) -> Outcome:
        """已解决？ pressed in Telegram: on one of this report's own notices (it is edited)."""
        report = await self.find(report_id)
        if report is None or report.rider_id != ctx.rider.id:
            return Outcome(toast=texts.t(ctx.lang, "button.stale"), alert=True)
        try:
            await self.access.require_origin(ctx.chat_id, message_id, report.id, REPORTER_LINK)
        except Refused as exc:
            return Outcome(toast=texts.t(ctx.lang, exc.key, ticket=report.id), alert=True)
        answer = await self.answers.feedback(ctx, report.id, fixed)
        if not answer.ok:
            return Outcome(toast=answer.text(ctx.lang), alert=True)
        return Outcome(edit=Reply(answer.text(ctx.lang)))

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

    async def rider_is_back(self, rider: Rider) -> Rider:
        """A rider the bot could not reach wrote again: their cards stop warning staff."""
        async with self.db.transaction() as conn:
            if await riders.set_reachable(conn, rider.id, True, self.clock.now()):
                for report in await reports.for_rider(conn, rider.id, limit=OPEN_CARDS):
                    if report.rider_id == rider.id and Status(report.status) not in FINAL:
                        await self.cards.refresh(report.id, conn)
        return dataclasses.replace(rider, unreachable_at=None)

    # ---- messages out -----------------------------------------------------------------

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
