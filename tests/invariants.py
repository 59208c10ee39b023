"""What people must see after a run, however often the bot died or Telegram hiccupped.

Shared by tests/test_crash.py and tests/test_soak.py, and read off the fake Telegram (what
people's chats show), plus one look at the database (one report per submitted draft):

- every draft a rider submitted became one report: one ticket number, one card;
- every rider got one message with their ticket, saying where the report went;
- every card is in its desk's chat once (after a transfer, in the new desk's), nowhere else;
- every notice an action caused arrived once: the rider hears of each accept, resolution
  and transfer, staff of each "not fixed"; the rider's answer to 已解决？ is shown;
- every report ended closed, confirmed by its rider (the work could go on after each kill).

Telegram has no idempotency key, so a call it applied whose answer never reached the bot
(lost on the way, or the bot was killed before it could record it) may be made again: such
a duplicate is allowed, and listed in `Findings.duplicates`; any other is a problem.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.crowd import TOKEN, Crowd, Intent, bot_views, card_ticket, words
from tests.fake_telegram import Call, FakeTelegram

# The bot died this soon after Telegram applied a call: it may not have recorded the answer.
LOST_WINDOW = 3.0


class BrokenInvariants(AssertionError):
    """What people saw breaks an invariant (tests may expect this while a gap is known)."""


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # from lost answers: allowed, counted

    def verify(self, evidence: str = "") -> None:
        """Raise BrokenInvariants with the problems (and the evidence) if there are any."""
        if self.problems:
            raise BrokenInvariants(f"{self}\n{evidence}")

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s):", *[f"  - {p}" for p in self.problems]]
        lines += [f"{len(self.duplicates)} duplicate(s) from lost answers:"]
        return "\n".join(lines + [f"  - {d}" for d in self.duplicates])


def lost_answer(kills: Sequence[float]) -> Callable[[Call], str | None]:
    """Why a call's answer may never have reached the bot, or None if it did."""

    def why(call: Call) -> str | None:
        if call.lost:
            return "its answer was lost on the way"
        for kill in kills:
            if 0 <= kill - call.at <= LOST_WINDOW:
                return f"the bot was killed {kill - call.at:.2f} s after Telegram applied it"
        return None

    return why


def check(tg: FakeTelegram, crowd: Crowd, kills: Sequence[float] = ()) -> Findings:
    """Everything people see, against what they did."""
    found = Findings()
    why = lost_answer(kills)
    cards: dict[int, list[dict[str, Any]]] = defaultdict(list)  # ticket -> card messages
    tickets_of: dict[str, set[int]] = defaultdict(set)  # token -> tickets of its cards
    for chat_id in sorted({d.chat_id for d in crowd.desks.values()}):
        for m in bot_views(tg, chat_id):
            ticket = card_ticket(m)
            token = TOKEN.search(words(m))
            if ticket is not None:
                cards[ticket].append(m)
                if token:
                    tickets_of[token.group(0)].add(ticket)
    known = set()
    for intent in crowd.intents:
        if not intent.pressed_submit:
            continue
        made = sorted(tickets_of.get(intent.token, set()))
        known.update(made)
        if len(made) > 1:
            found.problems.append(f"draft {intent.token} became reports {made}")
        if not made:
            told = f" (the rider was told #{intent.ticket})" if intent.ticket else ""
            found.problems.append(f"draft {intent.token} was submitted; no card anywhere{told}")
            continue
        ticket = made[0]
        if intent.ticket not in (None, ticket):
            found.problems.append(f"{intent.token}: rider told #{intent.ticket}, card #{ticket}")
        _cards(tg, crowd, intent, ticket, cards[ticket], found, why)
        _rider_chat(tg, crowd, intent, ticket, found, why)
        _staff_chat(tg, crowd, intent, ticket, found, why)
    for ticket in sorted(set(cards) - known):
        found.problems.append(f"a card #{ticket} that no rider's draft explains")
    return found


def _cards(
    tg: FakeTelegram,
    crowd: Crowd,
    intent: Intent,
    ticket: int,
    copies: list[dict[str, Any]],
    found: Findings,
    why: Callable[[Call], str | None],
) -> None:
    desk = crowd.desks[intent.final_desk]
    home = [
        m
        for m in copies
        if m["chat"]["id"] == desk.chat_id
        and (desk.topic_id is None or m.get("message_thread_id") == desk.topic_id)
    ]
    for m in copies:
        if m in home:
            continue
        # A copy whose answer was lost stays where it was posted (say, before a transfer).
        where = m["chat"].get("title", m["chat"]["id"])
        call = tg.sent_by(m["chat"]["id"], m["message_id"])
        reason = why(call) if call is not None else None
        if reason:
            found.duplicates.append(f"card #{ticket} left in 「{where}」: {reason}")
        else:
            found.problems.append(f"card #{ticket} is live in 「{where}」, not in {desk.name}")
    if not home:
        found.problems.append(f"card #{ticket} never reached {desk.name}")
        return
    _count(tg, home, 1, f"card #{ticket} in {desk.name}", found, why)
    status = next((line for line in words(home[-1]).split("\n") if "状态：" in line), "?")
    if "已结案" not in status:
        found.problems.append(f"#{ticket} ({intent.token}) did not get to the end: {status}")


def _rider_chat(
    tg: FakeTelegram,
    crowd: Crowd,
    intent: Intent,
    ticket: int,
    found: Findings,
    why: Callable[[Call], str | None],
) -> None:
    rider = next(r for r in crowd.riders if intent in r.intents)
    said = bot_views(tg, rider.user.id)

    def saying(pattern: str) -> list[dict[str, Any]]:
        return [m for m in said if re.search(pattern.replace("N", str(ticket)), words(m))]

    tickets = saying(r"工单号 #N\b")
    _count(tg, tickets, 1, f"the rider's ticket #{ticket}", found, why)
    desk = crowd.desks[intent.desk]
    went = f"已派往「{desk.name}」" if desk.key != "supervisors" else f"已转交「{desk.name}」"
    if tickets and went not in words(tickets[-1]):
        found.problems.append(f"ticket #{ticket} does not say {went}: {words(tickets[-1])!r}")
    n = intent.resolutions
    expected = {
        r"工单 #N 已被社区受理": n,  # one accept per resolution
        r"工单 #N 已办结：|谢谢确认！工单 #N 已结案|收到，工单 #N 已退回": n,  # 已解决？
        r"谢谢确认！工单 #N 已结案": 1,  # the rider's 已解决 was answered
        r"收到，工单 #N 已退回社区重新处理": 1 if intent.reopen else 0,
    }
    if intent.transfer_to:
        expected[rf"工单 #N 已转交「{crowd.desks[intent.transfer_to].name}」处理"] = 1
    for pattern, count in expected.items():
        _count(tg, saying(pattern), count, f"#{ticket}: rider's /{pattern}/", found, why)


def _staff_chat(
    tg: FakeTelegram,
    crowd: Crowd,
    intent: Intent,
    ticket: int,
    found: Findings,
    why: Callable[[Call], str | None],
) -> None:
    desk = crowd.desks[intent.final_desk]
    reopened = [
        m
        for m in bot_views(tg, desk.chat_id, desk.topic_id)
        if f"骑手反馈工单 #{ticket} " in words(m)
    ]
    count = 1 if intent.reopen else 0
    _count(tg, reopened, count, f"#{ticket}: 未解决 notice in {desk.name}", found, why)


def _count(
    tg: FakeTelegram,
    copies: list[dict[str, Any]],
    wanted: int,
    what: str,
    found: Findings,
    why: Callable[[Call], str | None],
) -> None:
    """`wanted` messages; more only where the older copies' answers were lost."""
    if len(copies) < wanted:
        found.problems.append(f"{what}: {len(copies)} message(s), expected {wanted}")
        return
    extra = len(copies) - wanted
    if not extra:
        return
    # The bot knows of the newest copy (it retried); older copies are the suspects.
    suspects = sorted(copies, key=lambda m: m["message_id"])[:-1]
    excused = []
    for m in suspects:
        call = tg.sent_by(m["chat"]["id"], m["message_id"])
        reason = why(call) if call is not None else None
        if reason:
            excused.append(f"{what}: message {m['message_id']} ({call.method}): {reason}")
    if len(excused) >= extra:
        found.duplicates.extend(excused[:extra])
    else:
        ids = [m["message_id"] for m in copies]
        found.problems.append(f"{what}: {len(copies)} messages {ids}, expected {wanted}")


def tickets_in(found: Findings) -> list[int]:
    """The tickets the problems name, in order."""
    named = [int(n) for p in found.problems for n in re.findall(r"#(\d+)", p)]
    return list(dict.fromkeys(named))


def timeline(tg: FakeTelegram, ticket: int, kills: Sequence[float], started: float) -> str:
    """Every call the bot made about one ticket, and the kills, in time order: the evidence
    behind a problem (seconds since `started`; "lost" = its answer never reached the bot)."""
    mention = re.compile(rf"#{ticket}(?!\d)")
    events = [(k - started, "*** SIGKILL") for k in kills]
    for call in [*tg.calls, *tg.turned_away]:
        said = str(call.params.get("text") or call.params.get("caption") or "")
        markup = str(call.params.get("reply_markup"))
        if call.method == "answerCallbackQuery":  # the answer to a press on this ticket
            query = tg.callback_query(str(call.params.get("callback_query_id"))) or {}
            markup = query.get("data", "")
            said = f"[{markup}] {said}"
        if not mention.search(said) and f":r:{ticket}:" not in markup:  # a report's button
            continue
        head = said.split("\n", 1)[0][:60]
        answer = {0: "no answer (never reached Telegram)"}.get(call.status, str(call.status))
        answer += " (applied; the answer was lost)" if call.lost else ""
        chat = call.params.get("chat_id", "")
        events.append((call.at - started, f"{call.method} {chat} → {answer} {head}"))
    return "\n".join(f"  {at:7.2f}s {what}" for at, what in sorted(events))


async def reports_per_draft(database_url: str) -> Counter[int]:
    """How many reports each draft became, read from the database after the run."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT draft_id FROM reports"))
            return Counter(row[0] for row in rows)
    finally:
        await engine.dispose()


def check_reports(per_draft: Counter[int], crowd: Crowd, found: Findings) -> None:
    """One report per submitted draft, none besides."""
    twice = {d: n for d, n in per_draft.items() if n > 1}
    if twice:
        found.problems.append(f"drafts that became several reports: {twice}")
    submitted = sum(i.pressed_submit for i in crowd.intents)
    if sum(per_draft.values()) != submitted:
        found.problems.append(
            f"{sum(per_draft.values())} reports in the database for {submitted} submitted drafts"
        )
