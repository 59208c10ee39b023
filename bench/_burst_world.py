"""(helper of bench_burst.py) The real `suishou run` process against a timed fake Telegram.

The bench drives the bot only with Telegram updates and reads only what reaches the fake, so
it measures any delivery design alike (direct sends, or an outbox and its worker).
"""

from __future__ import annotations

import asyncio
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ROOT, TOKEN, wgs
from tests.databases import database_url, drop_created
from tests.fake_telegram import FakeTelegram, FakeTelegramServer, Person
from tests.images import jpeg
from tests.test_entry_point import EXAMPLE_CHATS, config_text

COMMUNITY = "dongguan"  # 东关社区: a 0.012° square (GCJ-02) in the example configuration
SW_CORNER = (36.1049, 113.2061)  # its south-west corner (lat, lon), GCJ-02
CATEGORIES = ("🧹 环境卫生", "🚨 社会治安")  # both go to the community whose area it is
SENDS = frozenset(("sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"))
CARD = re.compile(r"工单 #(\d+)")
EXAMPLE_DATABASE = 'database_url = "sqlite+aiosqlite:///data/suishou.db"'


class TimedTelegram(FakeTelegram):
    """The fake, noting when each update leaves through getUpdates and each message arrives.

    Times are time.perf_counter() in this process, taken as the call reaches the fake.
    """

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self.handed: dict[int, float] = {}  # update_id -> first handed out by getUpdates
        self.sent: dict[int, list[tuple[float, str]]] = {}  # chat -> accepted (at, words)
        self.refused: list[float] = []  # 429s answered

    def api_getUpdates(self, p: Any, files: Any) -> Any:
        updates = super().api_getUpdates(p, files)
        now = time.perf_counter()
        for update in updates:
            self.handed.setdefault(update["update_id"], now)
        return updates

    def _handle(self, method: str, params: dict[str, Any], files: Any, *args: Any) -> Any:
        at = time.perf_counter()
        call, status, body = super()._handle(method, params, files, *args)
        chat = str(params.get("chat_id"))
        if status == 429:
            self.refused.append(at)
        elif status == 200 and method in SENDS and chat.lstrip("-").isdigit():
            words = str(params.get("text") or params.get("caption") or "")
            self.sent.setdefault(int(chat), []).append((at, words))
        return call, status, body

    def answered(self, chat: int, contains: str = "") -> float | None:
        """When the first message into `chat` (saying `contains`) reached the fake."""
        return next((at for at, words in self.sent.get(chat, ()) if contains in words), None)

    def cards_in(self, chat: int) -> list[tuple[float, int]]:
        """(arrival, ticket) of each card posted in the chat, in order."""
        found = ((at, CARD.search(words)) for at, words in list(self.sent.get(chat, ())))
        return [(at, int(m[1])) for at, m in found if m]


@dataclass
class Run:
    """One `suishou run` process and the people talking to it."""

    tg: TimedTelegram
    chats: dict[str, int]
    proc: subprocess.Popen[bytes]
    log: pathlib.Path
    helps: list[tuple[int, Person]] = field(default_factory=list)  # (update_id, asker)

    async def until(self, condition: Callable[[], Any], what: str, timeout: float) -> Any:
        """Poll until `condition` holds; a dead process or the timeout ends the bench."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if self.proc.poll() is not None:
                tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise SystemExit(f"suishou exited ({self.proc.returncode}) before {what}:\n{tail}")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)
        return result

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (made and queued at once, so ids stay in order)."""
        self.tg.push_update(update)
        return update["update_id"]

    def ask_help(self, n: int) -> None:
        """An unrelated user, new each time (no per-rider limit in play), sends /help."""
        asker = self.tg.person(f"路人{n}")
        self.helps.append((self.push(asker.command("/help")), asker))

    def help_samples(self, first: int = 0) -> list[tuple[float, float]]:
        """(handed out, server time) of each /help answered so far, from index `first` on."""
        samples = []
        for update_id, asker in self.helps[first:]:
            handed = self.tg.handed.get(update_id)
            answered = self.tg.answered(asker.id)
            if handed is not None and answered is not None:
                samples.append((handed, answered - handed))
        return samples

    def stop(self) -> None:
        """Ctrl-C, as an operator stops it; then drop a PostgreSQL database made for it."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        drop_created()


def start(tmp: pathlib.Path, tg: TimedTelegram, server: FakeTelegramServer) -> Run:
    """`suishou run` on the example county, its groups in the fake, its log in a file."""
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    text = config_text(tmp, server, chats)
    if EXAMPLE_DATABASE not in text:
        raise SystemExit(f"config.example.toml no longer has {EXAMPLE_DATABASE!r}")
    # SQLite in the temporary directory, or a fresh PostgreSQL database as the tests get
    # one with SUISHOU_TEST_DATABASE_URL (dropped at the end).
    url = database_url(tmp)
    print(f"  database: {url.split(':', 1)[0]}")
    config = tmp / "config.toml"
    config.write_text(text.replace(EXAMPLE_DATABASE, f'database_url = "{url}"'), "utf-8")
    log = tmp / "suishou.log"
    with log.open("wb") as err:  # a file, not a pipe nobody reads while the bot runs
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=tmp,
            env={**os.environ, "SUISHOU_E2E_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return Run(tg, chats, proc, log)


def spot(n: int, total: int) -> tuple[float, float]:
    """Rider n's hazard: a grid over the community, over 150 m (the duplicate radius)
    between neighbours, so that no report is offered as a duplicate of another."""
    side = math.ceil(math.sqrt(total))
    row, col = divmod(n, side)
    step = 0.0110 / max(side - 1, 1)
    point = wgs(SW_CORNER[0] + 0.0005 + row * step, SW_CORNER[1] + 0.0005 + col * step)
    return point.lat, point.lon


async def draft(run: Run, rider: Person, n: int, total: int) -> dict[str, Any]:
    """Photo, location, category: the summary whose Submit button posts the card."""

    def last_buttons() -> list[str]:
        last = rider.last_bot_message()
        return last.buttons if last is not None else []

    run.push(rider.photo(jpeg(seed=n), caption=f"第{n + 1}处：路面塌陷"))
    await run.until(rider.last_bot_message, "the location question", 60)
    run.push(rider.location(*spot(n, total)))
    category = CATEGORIES[n % len(CATEGORIES)]
    await run.until(lambda: category in last_buttons(), "the category buttons", 60)
    run.push(rider.press(rider.last_bot_message(), category))
    ready = ("✅ 提交", "不是同一个，继续提交")
    await run.until(lambda: any(b in last_buttons() for b in ready), "the summary", 60)
    if "不是同一个，继续提交" in last_buttons():  # offered as a duplicate: submit anyway
        run.push(rider.press(rider.last_bot_message(), "不是同一个，继续提交"))
        await run.until(lambda: "✅ 提交" in last_buttons(), "the summary", 60)
    summary = rider.last_bot_message()
    assert summary is not None
    return summary
