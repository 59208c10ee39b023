"""The riders and the staff of tests/crowd.py: what each looks at, and what they do next."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.crowd import (
    TOKEN,
    Desk,
    Intent,
    Person,
    buttons,
    card_ticket,
    words,
)

SUBMIT, NOT_SAME, FIXED, NOT_FIXED = "✅ 提交", "不是同一个，继续提交", "✅ 已解决", "❌ 未解决"
ACCEPT, RESOLVE, TRANSFER, BACK = "✋ 受理", "✅ 办结", "↪️ 转派", "↩️ 返回"
ASK_LOCATION = "发送位置"
SUBMITTED = re.compile(r"已提交 · 工单 #(\d+)|已提交 #(\d+)|已经提交过了，工单号 #(\d+)")
TICKET = re.compile(r"工单号 #(\d+)")
RESOLVED = re.compile(r"工单 #(\d+) 已办结：")
PROMPT = re.compile(r"工单 #(\d+) 的办结说明")
REOPENED = re.compile(r"已退回社区重新处理")


def state(message: dict[str, Any] | None) -> str:
    """What a person sees of a message: to tell whether it changed."""
    if message is None:
        return ""
    return f"{message['message_id']}|{words(message)}|{','.join(buttons(message))}"


@dataclass
class Rider(Person):
    """Reports the intents one after another, and answers 已解决？ whenever asked."""

    intents: list[Intent] = field(default_factory=list)
    photos: list[bytes] = field(default_factory=list)
    current: int = 0
    first_id: int = 0  # the current draft's dialog comes after this message
    dialog: int = 0  # the latest message with the draft's question or buttons
    notices: dict[int, float] = field(default_factory=dict)  # 已解决？ to answer -> seen at
    notice_tickets: dict[int, int] = field(default_factory=dict)  # 已解决？ -> its ticket

    def tick(self) -> None:
        for m in self.new_messages(self.user.id):
            if m["from"]["id"] != self.crowd.tg.bot_id:
                continue
            here = buttons(m)
            asks = [SUBMIT, NOT_SAME, *(i.category for i in self.intents[self.current :][:1])]
            resolved = RESOLVED.search(words(m))
            if resolved and FIXED in here:
                self.notices[m["message_id"]] = time.monotonic()
                self.notice_tickets[m["message_id"]] = int(resolved.group(1))
            elif ASK_LOCATION in words(m) or any(b in here for b in asks):
                self.dialog = m["message_id"]  # the draft's question, or its buttons
        if self.paced() and not self._confirm():
            self._report()

    def _confirm(self) -> bool:
        """Answer one 已解决？ question. Copies of one question (a notice sent again after its
        answer was lost) are one question: the rider answers one copy at a time, and says
        未解决 once, on whichever copy works (a copy the bot never learnt of says its button
        has expired)."""
        tg = self.crowd.tg
        open_notices: list[tuple[int, Any, str, int | None]] = []
        answering: set[int | None] = set()
        for notice_id, _seen in sorted(self.notices.items()):
            notice = tg.view(self.user.id, notice_id)
            now = state(notice)
            ticket = self.notice_tickets.get(notice_id)
            if FIXED not in buttons(notice) or self.gave_up(notice_id, now):
                intent = self.crowd.intent(ticket=ticket) if ticket else None
                if intent is not None and REOPENED.search(words(notice)):
                    intent.reopened = True
                del self.notices[notice_id]  # answered, or refused again and again
                continue
            if self.crowd.waiting(self.acts.get(notice_id), now):
                answering.add(ticket)
            open_notices.append((notice_id, notice, now, ticket))
        for notice_id, notice, now, ticket in open_notices:
            if ticket in answering:
                continue  # a press on this question (or a copy of it) awaits its answer
            if time.monotonic() - self.notices[notice_id] < self.crowd.reading:
                continue
            intent = self.crowd.intent(ticket=ticket) if ticket else None
            reopen = intent is not None and intent.reopen and not intent.reopened
            press = self.user.press(notice, NOT_FIXED if reopen else FIXED)
            return self.did(notice_id, self.crowd.act(press, now))
        return False

    def _report(self) -> bool:
        if self.current >= len(self.intents):
            return False
        intent = self.intents[self.current]
        act = self.acts.get("draft")
        ticket = self._ticket(intent, act)
        if ticket is not None:
            intent.ticket = ticket
            self.current += 1
            self.first_id = self.seen
            self.acts.pop("draft", None)
            self.not_before = self.crowd.tick_no + 3 * self.crowd.pace  # a ride to the next
            return False
        tg = self.crowd.tg
        dialog = tg.view(self.user.id, self.dialog) if self.dialog > self.first_id else None
        now = state(dialog)
        if self.crowd.waiting(act, now):
            return False
        user = self.user
        here = buttons(dialog) if dialog else []
        if dialog is None or (ASK_LOCATION not in words(dialog) and not here):
            photo = self.photos[(self.current + user.id) % len(self.photos)]
            update = user.photo(photo, caption=f"{intent.token} 路口有隐患")
        elif SUBMIT in here:
            intent.pressed_submit = True
            update = user.press(dialog, SUBMIT)
        elif NOT_SAME in here:
            update = user.press(dialog, NOT_SAME)
        elif intent.category in here:
            update = user.press(dialog, intent.category)
        else:
            update = user.location(intent.point.lat, intent.point.lon)
        return self.did("draft", self.crowd.act(update, now))

    def _ticket(self, intent: Intent, act: Any) -> int | None:
        """The ticket this draft became, as the rider was told (toast, summary or ticket)."""
        if not intent.pressed_submit:
            return None
        answer = self.crowd.answer(act) if act and act.query else None
        seen = [answer.get("text") or ""] if answer else []
        seen += [words(m) for m in self.crowd.tg.messages_after(self.user.id, self.first_id)]
        taken = {i.ticket for i in self.intents[: self.current]}
        for text in seen:
            for pattern in (SUBMITTED, TICKET):
                found = pattern.search(text)
                number = next((int(g) for g in found.groups() if g), None) if found else None
                if number is not None and number not in taken:
                    return number
        return None


@dataclass
class Staff(Person):
    """Works every card in their desk's chat: accept, resolve with a note, or transfer."""

    desk: Desk | None = None
    cards: dict[int, float] = field(default_factory=dict)  # card -> when it was first seen
    prompts: dict[int, int] = field(default_factory=dict)  # ticket -> latest prompt to me
    replied: set[int] = field(default_factory=set)

    def tick(self) -> None:
        desk = self.desk
        assert desk is not None
        for m in self.new_messages(desk.chat_id, desk.topic_id):
            if m["from"]["id"] != self.crowd.tg.bot_id:
                continue
            if card_ticket(m) is not None:
                self.cards.setdefault(m["message_id"], time.monotonic())
            prompt = PROMPT.search(words(m))
            if prompt and self.user.user["first_name"] in words(m):
                self.prompts[int(prompt.group(1))] = m["message_id"]
        done = 0
        for card_id, seen in sorted(self.cards.items()):
            if done >= self.per_tick:
                return
            if time.monotonic() - seen >= self.crowd.reading:
                done += self._work(card_id)

    def _work(self, card_id: int) -> bool:
        desk, tg = self.desk, self.crowd.tg
        assert desk is not None
        card = tg.view(desk.chat_id, card_id)
        ticket = card_ticket(card)
        if card.deleted or ticket is None or "状态：已结案" in words(card):
            del self.cards[card_id]  # moved to another desk, or closed: nothing more to do
            return False
        now = state(card)
        act = self.acts.get(card_id)
        if self.gave_up(card_id, now):
            return False
        # Staff need not wait for the card to change: their answer (a toast, or a reply to
        # their message) comes after the step's card edit or prompt.
        if self.crowd.waiting(act, now) and act is not None and self.crowd.answer(act) is None:
            return False
        token = TOKEN.search(words(card))
        intent = self.crowd.intent(token=token.group(0)) if token else None
        here = buttons(card)
        first_desk = intent is not None and intent.desk == desk.key
        if ACCEPT in here:
            press = TRANSFER if first_desk and intent and intent.transfer_to else ACCEPT
        elif BACK in here:
            target = intent.transfer_to if first_desk and intent else None
            press = self.crowd.desks[target].name if target else BACK
        elif RESOLVE in here:
            prompt = self.prompts.get(ticket)
            if prompt is not None and prompt not in self.replied:
                self.replied.add(prompt)
                note = f"已处理{token.group(0) if token else ''}"
                update = self.user.reply(tg.view(desk.chat_id, prompt), text=note)
                return self.did(card_id, self.crowd.act(update, now))
            press = RESOLVE
        else:
            return False  # waiting for the rider, or closed
        return self.did(card_id, self.crowd.act(self.user.press(card, press), now))
