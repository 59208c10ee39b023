"""A community's desk in a chat (Telegram today, a WeCom group later): the card's buttons,
their menus, the prompts staff answer by replying, /ticket.

The chat proves the desk: a person who belongs to the desk's chat now works there
(bot/casework/access.py), as the staff person behind their account (bot/people/staff.py).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.callbacks import Callback
from bot.casework.cards import (
    card_buttons,
    card_reply,
    card_text,
    history_line,
    reject_buttons,
    transfer_buttons,
)
from bot.casework.dispatch import Pin
from bot.casework.permission import actor_at
from bot.casework.service import Casework
from bot.config import ChatTarget
from bot.domain.desks import desk_at
from bot.domain.lifecycle import (
    REJECT_REASONS,
    Action,
    Actor,
    Refused,
    Role,
    Status,
    decide,
)
from bot.domain.numbers import parse_ticket_id
from bot.messages import Outcome, Reply, say
from bot.people.staff import COUNTY, Seat, StaffDirectory
from storage.records import CardMessage, Report

TICKET_LINES = 30  # /ticket shows the latest steps (the outbox splits a long history)


@dataclass(frozen=True)
class Staff:
    """A person acting in a dispatcher chat, as that chat knows them (their account there)."""

    id: int
    name: str
    channel: str = "telegram"


@dataclass(frozen=True)
class Where:
    chat_id: int
    topic_id: int | None = None


class ChatDesk:
    """Casework from a dispatcher chat: the card's buttons, its menus and prompts, /ticket."""

    def __init__(self, work: Casework, people: StaffDirectory) -> None:
        self.work = work
        self.people = people
        self.lang = work.lang

    def role_in(self, where: Where, report: Report) -> Role:
        """Staff of the owning community's chat, or supervisors; anyone else is refused."""
        if self.work.cards.target_for(report.community_id).covers(where.chat_id, where.topic_id):
            return Role.STAFF
        if self.work.cards.supervisors.covers(where.chat_id, where.topic_id):
            return Role.SUPERVISOR
        raise Refused("refused.wrong_chat")

    async def _staff_actor(self, where: Where, staff: Staff, report: Report) -> Actor:
        """The desk's role, for the person who belongs to the desk's chat now."""
        role = self.role_in(where, report)
        await self.work.access.require_member(where.chat_id, staff.id)
        person = await self.people.from_account(staff.channel, str(staff.id), staff.name)
        desk = report.community_id if role is Role.STAFF and report.community_id else COUNTY
        return actor_at(Seat(person, desk), report)

    def _refusal(self, exc: Refused, report: Report | None = None) -> Outcome:
        values = dict(exc.values)
        if report is not None:
            values.setdefault("name", report.handler_name or "?")
            values.setdefault("ticket", report.id)
        return Outcome(toast=texts.t(self.lang, exc.key, **values), alert=True)

    async def press(
        self, where: Where, staff: Staff, cb: Callback, message_id: int | None
    ) -> Outcome:
        """A press on the message `message_id`: it must be this report's card, here."""
        report = None
        try:
            report = await self.work._load(cb.target)
            self.role_in(where, report)
            if await self._require_card(where, message_id, report):
                report = await self.work._load(cb.target)  # as the card's delivery left it
            actor = await self._staff_actor(where, staff, report)
            if cb.action == "pin" and message_id is not None:
                return await self._pin(where, report, message_id)
            return await self._press(where, staff, actor, report, cb)
        except Refused as exc:
            return self._refusal(exc, report)

    async def _require_card(self, where: Where, message_id: int | None, report: Report) -> bool:
        """The pressed message is the report's card here; one pressed the moment it
        appeared may not be written down yet (its delivery still being recorded): whether
        the press waited for that."""
        try:
            await self.work.access.require_origin(where.chat_id, message_id, report.id)
        except Refused:
            if not await self.work.access.recorded(where.chat_id):
                raise
            await self.work.access.require_origin(where.chat_id, message_id, report.id)
            return True
        return False

    async def _pin(self, where: Where, report: Report, message_id: int) -> Outcome:
        """The location pin under the pressed card (checked to be this report's card here)."""
        card = CardMessage(report.id, where.chat_id, where.topic_id, message_id, "card")
        sent = await self.work.cards.send_pin(card)
        key = "staff.pin_sent" if sent is Pin.SENT else "staff.pin_recent"
        return Outcome(toast=texts.t(self.lang, key))

    async def _press(
        self, where: Where, staff: Staff, actor: Actor, report: Report, cb: Callback
    ) -> Outcome:
        status = Status(report.status)
        lang = self.lang
        if cb.action == "acc":
            await self.work.apply_accept(report, actor)
            return Outcome(toast=texts.t(lang, "staff.accepted", ticket=report.id))
        if cb.action == "res":
            decide(status, report.handler_id, actor, Action.RESOLVE)
            await self._ask(where, report, staff, actor, "resolve", "staff.ask_resolution")
            return Outcome(toast=texts.t(lang, "staff.reply_to_prompt"))
        if cb.action == "trm":
            decide(status, report.handler_id, actor, Action.TRANSFER)
            return await self._menu(report, transfer_buttons(self.work.config, report, lang))
        if cb.action == "tr" and cb.arg:
            place = await self.work.apply_transfer(report, actor, cb.arg)
            return Outcome(toast=texts.t(lang, "staff.transferred", ticket=report.id, place=place))
        if cb.action == "rjm":
            decide(status, report.handler_id, actor, Action.REJECT)
            return await self._menu(report, reject_buttons(report, lang))
        if cb.action == "rj" and cb.arg in REJECT_REASONS:
            if cb.arg == "duplicate":
                decide(status, report.handler_id, actor, Action.REJECT)
                await self._ask(where, report, staff, actor, "duplicate", "staff.ask_duplicate")
                return Outcome(toast=texts.t(lang, "staff.reply_to_prompt"))
            told = await self.work.apply_reject(report, actor, cb.arg)
            return Outcome(toast=self._rejected(report, told))
        if cb.action == "back":
            return await self._menu(report, card_buttons(report, lang))
        raise Refused("refused.stale")

    async def _menu(self, report: Report, buttons: Any) -> Outcome:
        async with self.work.db.transaction() as conn:
            view = await self.work.cards.view(conn, report)
        return Outcome(edit=card_reply(self.work.config, report, view, self.lang, buttons))

    async def _ask(
        self, where: Where, report: Report, staff: Staff, actor: Actor, action: str, key: str
    ) -> None:
        """Ask the staff member for text by a message they answer with a reply."""
        mention = texts.Html(f'<a href="tg://user?id={staff.id}">{html.escape(staff.name)}</a>')
        async with self.work.db.transaction() as conn:
            await self.work.outbox.message(
                conn,
                ChatTarget(where.chat_id, where.topic_id),
                Reply(texts.t(self.lang, key, staff=mention, ticket=report.id), force_reply=True),
                report_id=report.id,
                reply_to="card",
                prompt={"action": action, "staff_id": actor.id or 0},
            )

    def _rejected(self, report: Report, told: bool) -> texts.Html:
        """Staff's answer says the rider was told only when they were."""
        key = "staff.rejected" if told else "staff.rejected_untold"
        return texts.t(self.lang, key, ticket=report.id)

    async def ticket(self, where: Where, args: list[str]) -> Outcome:
        """/ticket N: the history of a report, for its community's desk or the county's.

        A missing ticket and another desk's get the same answer, so numbers cannot be probed.
        """
        desk = desk_at(self.work.config, where.chat_id, where.topic_id)
        if desk is None:
            return say(texts.t(self.lang, "stats.not_here"))
        number = parse_ticket_id(args[0]) if args else None
        if number is None:
            return say(texts.t(self.lang, "ticket.usage"))
        report = await self.work.find(number)
        if report is None or not (
            desk.community is None or report.community_id == desk.community.id
        ):
            return say(texts.t(self.lang, "refused.no_ticket_here", ticket=number))
        async with self.work.db.transaction() as conn:
            view = await self.work.cards.view(conn, report)
        lines = [card_text(self.work.config, report, view, self.lang, history=False)]
        lines.append(texts.t(self.lang, "ticket.history"))
        shown = view.history[-TICKET_LINES:]
        if len(view.history) > len(shown):
            lines.append(
                texts.t(self.lang, "ticket.earlier", count=len(view.history) - len(shown))
            )
        lines += [history_line(self.work.config, e, self.lang) for e in shown]
        return say("\n".join(lines))
