"""Simulated people for the crash and soak tests: riders report and confirm, staff work cards.

Each person acts only on what their own chats show, as a person would, and one step at a
time. Someone whose step got no answer (the bot was killed, or Telegram lost the answer)
does it again once their patience runs out, as people do; so every step must be safe to
repeat, the draft's Submit above all. Whatever runs the bot (a process over loopback HTTP,
or the Application in-process) passes `post`, which hands an update to it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.geo import LatLon
from tests.fake_telegram import FakeTelegram, TgMessage

CARD_HEAD = re.compile(r"工单 #(\d+) · ")
TOKEN = re.compile(r"〔R\d+-\d+〕")
ERROR_TOAST = "出了点问题"  # error.generic: "try again later", so people do
GIVE_UP = 3  # refusals of the same step on something that did not change


def words(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or ""


def card_ticket(message: dict[str, Any]) -> int | None:
    """The ticket of a card: a message whose first line is a card's title, with more below
    (a photo captioned apart from its card has the title alone; a moved card has none)."""
    head, _, rest = words(message).partition("\n")
    found = CARD_HEAD.search(head)
    return int(found.group(1)) if found and rest else None


def bot_views(tg: FakeTelegram, chat_id: int, thread_id: int | None = None) -> list[TgMessage]:
    """The bot's messages in a chat (or topic), as read-only views: cheap to poll."""
    return [m for m in tg.messages_after(chat_id, 0, thread_id) if m["from"]["id"] == tg.bot_id]


def buttons(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


@dataclass(frozen=True)
class Desk:
    """A dispatcher chat: a community's, or the supervisors'."""

    key: str
    name: str
    chat_id: int
    topic_id: int | None = None


@dataclass
class Intent:
    """One report a rider means to make, what staff will do with it, and what was seen."""

    token: str  # in the rider's caption, so on the card: which draft a card comes from
    point: LatLon
    category: str  # the category button's label
    desk: str  # the desk its card goes to first
    transfer_to: str | None = None  # the first desk's staff transfer it there
    reopen: bool = False  # the rider answers 未解决 once, then 已解决
    pressed_submit: bool = False
    ticket: int | None = None
    reopened: bool = False  # the rider's 未解决 took effect (the notice said 已退回)

    @property
    def final_desk(self) -> str:
        return self.transfer_to or self.desk

    @property
    def resolutions(self) -> int:
        return 2 if self.reopen else 1


@dataclass
class Act:
    """Something a person did, and how they will know it was answered."""

    at: float  # time.monotonic()
    before: str  # how what they acted on looked: they wait for it to change
    query: str | None = None  # a press: its callback query, whose toast may say why not
    sent: tuple[int, int] | None = None  # a message (chat, id): the bot may reply to it


class Crowd:
    """Everyone, and the clock of their patience."""

    def __init__(
        self,
        tg: FakeTelegram,
        post: Callable[[dict[str, Any]], None],
        desks: dict[str, Desk],
        *,
        patience: float,
        reading: float = 1.0,
        pace: int = 1,
    ) -> None:
        self.tg = tg
        self.post = post
        self.desks = desks
        self.patience = patience  # seconds without an answer before doing it again
        self.reading = reading  # seconds from a message's arrival to a press on it
        self.pace = pace  # ticks between one person's actions
        self.ready_at = 0.0  # the bot (re)started listening: nobody expected answers before
        self.tick_no = 0
        self.actions = 0
        self.riders: list[Any] = []
        self.staff: list[Any] = []
        self._by_token: dict[str, Intent] = {}

    @property
    def intents(self) -> list[Intent]:
        return [i for r in self.riders for i in r.intents]

    def intent(self, token: str | None = None, ticket: int | None = None) -> Intent | None:
        """The intent a card (its token) or a notice (its ticket) is about."""
        if token is not None:
            if not self._by_token:
                self._by_token = {i.token: i for i in self.intents}
            return self._by_token.get(token)
        return next((i for i in self.intents if ticket and i.ticket == ticket), None)

    def act(self, update: dict[str, Any], before: str) -> Act:
        """Hand one update to the bot; what it was, to wait for its answer."""
        self.post(update)
        self.actions += 1
        if "callback_query" in update:
            return Act(time.monotonic(), before, query=update["callback_query"]["id"])
        message = update["message"]
        return Act(time.monotonic(), before, sent=(message["chat"]["id"], message["message_id"]))

    def answer(self, act: Act) -> dict[str, Any] | None:
        """The toast a press got, or the bot's reply to a message (None while neither came)."""
        if act.query is not None:
            return self.tg.answer_to(act.query)
        if act.sent is None:
            return None
        chat_id, message_id = act.sent
        return next(
            (
                m
                for m in self.tg.messages_after(chat_id, message_id)
                if m["from"]["id"] == self.tg.bot_id
                and m.get("reply_to_message", {}).get("message_id") == message_id
            ),
            None,
        )

    def waiting(self, act: Act | None, now: str) -> bool:
        """Still waiting for `act` to change what it acted on (`now` is how that looks)?

        A toast is not enough: the edit that answers a press may come just after it.
        Patience counts from the bot's latest (re)start: nobody is answered while it is down.
        """
        if act is None or now != act.before:
            return False
        return time.monotonic() - max(act.at, self.ready_at) < self.patience

    def tick(self) -> None:
        self.tick_no += 1
        for person in [*self.riders, *self.staff]:
            person.tick()

    def finished(self) -> bool:
        """Every rider made every report, and every report is closed in its final desk."""
        if any(r.current < len(r.intents) for r in self.riders):
            return False
        closed = {
            (desk.key, card_ticket(m))
            for desk in self.desks.values()
            for m in bot_views(self.tg, desk.chat_id, desk.topic_id)
            if "状态：已结案" in words(m)
        }
        return all((i.final_desk, i.ticket) in closed for i in self.intents)


@dataclass
class Person:
    """Someone in the crowd: acts once every `crowd.pace` ticks, or (`per_tick` > 1, staff
    working many cards) up to `per_tick` times a tick."""

    crowd: Crowd
    user: Any  # tests.fake_telegram.Person
    per_tick: int = 1
    not_before: int = 0
    seen: int = 0  # the last message id read in their chat
    acts: dict[Any, Act] = field(default_factory=dict)  # what they wait on, per thing
    refusals: dict[tuple[Any, str], int] = field(default_factory=dict)  # (thing, look) -> n

    def paced(self) -> bool:
        return self.crowd.tick_no >= self.not_before

    def did(self, key: Any, act: Act) -> bool:
        self.acts[key] = act
        if self.per_tick == 1:
            self.not_before = self.crowd.tick_no + self.crowd.pace
        return True

    def gave_up(self, key: Any, now: str) -> bool:
        """Told why not (say "刚刚被别人更新了"), a person tries again later, not forever:
        after GIVE_UP refusals of the same step on something that did not change."""
        act = self.acts.get(key)
        if act is not None and act.query is not None:
            answer = self.crowd.answer(act)
            if answer and answer.get("show_alert") and ERROR_TOAST not in (answer["text"] or ""):
                look = (key, act.before)
                self.refusals[look] = self.refusals.get(look, 0) + 1
                act.query = None  # counted
        return self.refusals.get((key, now), 0) >= GIVE_UP

    def new_messages(self, chat_id: int, thread_id: int | None = None) -> list[TgMessage]:
        newer = self.crowd.tg.messages_after(chat_id, self.seen, thread_id)
        if newer:
            self.seen = newer[-1]["message_id"]
        return newer
