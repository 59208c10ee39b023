"""Replies in a dispatcher chat: the answer to a prompt (resolve, duplicate of), or a message
that goes to the rider.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.casework.chat_desk import ChatDesk, Staff, Where
from bot.casework.steps import NOTE_MAX
from bot.domain.lifecycle import (
    Actor,
    Refused,
    Role,
)
from bot.domain.numbers import parse_ticket_id
from bot.intake.photo_input import PhotoInput
from bot.messages import Outcome, say
from storage import reports
from storage.records import CardMessage, Report


class ChatReplies:
    """Replies in a dispatcher chat: the answer to a prompt, or words for the rider."""

    def __init__(self, desk: ChatDesk) -> None:
        self.desk = desk
        self.work = desk.work
        self.lang = desk.lang

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
        if (
            prompt is None
            and link is None
            and to_bot
            and await self.work.access.recorded(where.chat_id)
        ):
            prompt, link = await self._replied(where.chat_id, reply_to)
        if prompt is not None:
            report_id = prompt.report_id
        elif link is not None and link.kind in ("card", "photo", "location", "notice"):
            report_id = link.report_id
        else:
            return None
        report = None
        try:
            report = await self.work._load(report_id)
            actor = await self.desk._staff_actor(where, staff, report)
            if prompt is not None:
                return await self._answer_prompt(where, prompt, report, actor, text, photo)
            key = await self.work.relay_to_rider(report, actor, text, photo)
            return say(texts.t(self.lang, key))
        except Refused as exc:
            refusal = self.desk._refusal(exc, report)
            return say(refusal.toast or "")

    async def _replied(self, chat_id: int, message_id: int) -> tuple[Any, CardMessage | None]:
        """The open prompt, or else the report's message, that `message_id` is."""
        async with self.work.db.transaction() as conn:
            prompt = await reports.open_prompt(conn, chat_id, message_id)
            link = None if prompt else await reports.link_for_message(conn, chat_id, message_id)
        return prompt, link

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
            stored = await self.work.store_photo(photo) if photo else None
            asked = await self.work.apply_resolve(report, actor, note, stored)
            reply = texts.t(
                lang, "staff.resolved" if asked else "staff.resolved_unasked", ticket=report.id
            )
        else:
            original = await self._duplicate_target(where, report, text)
            if original is None:
                return say(texts.t(lang, "staff.bad_duplicate"))
            told = await self.work.apply_reject(
                report, actor, "duplicate", duplicate_of=original.id
            )
            reply = self.desk._rejected(report, told)
        async with self.work.db.transaction() as conn:
            await reports.answer_prompt(conn, prompt.id, self.work.clock.now())
        return say(reply)

    async def _duplicate_target(self, where: Where, report: Report, text: str) -> Report | None:
        """The report a duplicate points to: one this desk may see (open or closed), not itself.

        Its riders will follow that report, so it must never be another community's: one
        refusal for "missing", "elsewhere" and "itself", so numbers cannot be probed.
        """
        number = parse_ticket_id(text)
        original = await self.work.find(number) if number else None
        if original is None or original.id == report.id:
            return None
        try:
            self.desk.role_in(where, original)
        except Refused:
            return None
        return original
