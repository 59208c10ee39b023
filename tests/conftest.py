"""The stage for end-to-end tests: the real Application, a fake Telegram, riders and staff.

Every test gets a fresh fake Telegram with the example county's dispatcher groups, a
configuration made from config.example.toml pointing at them, an empty database in
tmp_path, and a running Application (job queue included) wired through FakeRequest.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import build_application, on_shutdown, on_startup
from bot.config import Config, parse_config
from bot.delivery.worker import Backoff
from bot.domain.geo import LatLon, gcj02_to_wgs84
from bot.services import Services
from handlers.telegram.steady import RetryPolicy
from storage.database import Database
from tests.databases import database_url, drop_created
from tests.fake_telegram import FakeRequest, FakeTelegram, Person

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"


def wgs(lat: float, lon: float) -> LatLon:
    """A GCJ-02 map point as the WGS-84 fix a rider's phone reports there."""
    return gcj02_to_wgs84(LatLon(lat, lon))


# Points in the example county (GCJ-02 as read off a Chinese map, converted for phones).
IN_DONGGUAN = wgs(36.1109, 113.2121)
IN_XIGUAN = wgs(36.1109, 113.2001)
NEAR_NANJIE = wgs(36.0969, 113.2061)  # ~220 m from 南街's centre, no boundary there
NORTH_OF_TOWN = wgs(36.1300, 113.2061)  # 2 km out: only the fire station's radius
FAR_AWAY = wgs(36.4000, 113.5000)


# The outbox's waits between tries of a failing message: short, so tests see the outcome.
FAST_BACKOFF = Backoff(first=0.01, cap=0.05)

# A transaction opened inside another by the same task stalls SQLite until its busy timeout:
# in tests it is an error at once, so every path that nests is found.
Database.strict_nesting = True


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 20, 6, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class Waits(list[float]):
    """The bot's retry waits, recorded instead of slept (tests stay fast, and can read them)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Stage:
    tg: FakeTelegram
    config: Config
    app: Application
    clock: FakeClock
    chats: dict[str, int]
    topics: dict[str, int] = field(default_factory=dict)
    deliver_after_send: bool = True  # False: what updates put in the outbox stays there

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    @property
    def waits(self) -> Waits:
        """What the bot waited between retries of Telegram calls."""
        return self.app.bot_data["test_waits"]

    async def send(self, update: dict[str, Any]) -> None:
        """Deliver one update the way the polling loop would, then let the outbox deliver
        what it caused (a test reads what people see once it has arrived)."""
        await self.app.process_update(Update.de_json(update, self.app.bot))
        in_album = "media_group_id" in update.get("message", {})
        if self.deliver_after_send and not in_album:  # an album's parts come back to back
            await self.delivered()

    async def sweep(self) -> dict[str, int]:
        """One deadline sweep, and what it sent delivered."""
        done = await self.services.sweep.run()
        await self.delivered()
        return done

    async def delivered(self, timeout: float = 15.0) -> bool:
        """Wait until the outbox has nothing left to deliver soon."""
        return await self.services.delivery.drain(timeout)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until pending album answers (job queue) have run."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(j.name and j.name.startswith("album:") for j in self.app.job_queue.jobs()):
            if loop.time() > deadline:
                raise AssertionError("album answer never came")
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)
        if self.deliver_after_send:
            await self.delivered()  # the album's answer goes out through the outbox

    async def until(self, condition: Any, timeout: float = 15.0) -> Any:
        """Wait for work the bot does beside the update (non-blocking handlers)."""

        def check() -> Any:
            try:
                return condition()
            except (IndexError, KeyError):  # nothing there yet
                return None

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := check()):
            if loop.time() > deadline:
                raise AssertionError("the bot never got there")
            await asyncio.sleep(0.01)
        return result

    def person(self, name: str = "王师傅", language_code: str = "zh-hans") -> Person:
        return self.tg.person(name, language_code=language_code)

    def chat_messages(self, community: str) -> list[dict[str, Any]]:
        return self.tg.bot_messages(self.chats[community], self.topics.get(community))


def words(message: dict[str, Any]) -> str:
    """What a message says: its text, or a photo's caption (a card with one photo)."""
    return message.get("text") or message.get("caption") or ""


def make_config(
    tmp_path: Path, chats: dict[str, int], topics: dict[str, int], **reports: Any
) -> Config:
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    raw["bot"]["token_env"] = "SUISHOU_TEST_TOKEN"
    raw["storage"] = {
        "database_url": database_url(tmp_path),
        "photo_dir": str(tmp_path / "photos"),
    }
    # Long enough that a loaded machine processing one part does not close the album early.
    raw["reports"].update({"album_wait_seconds": 0.8, **reports})
    for community in raw["communities"]:
        community["chat_id"] = chats[community["id"]]
        community.pop("topic_id", None)
        if community["id"] in topics:
            community["topic_id"] = topics[community["id"]]
    raw["supervisors"]["chat_id"] = chats["supervisors"]
    return parse_config(raw, base_dir=tmp_path)


def make_world(tg: FakeTelegram) -> tuple[dict[str, int], dict[str, int]]:
    chats = {
        "supervisors": tg.new_group("壶关县网格化服务管理中心")["id"],
        "dongguan": tg.new_group("东关社区 随手反馈")["id"],
        "xiguan": tg.new_group("西关社区 随手反馈")["id"],
        "nanjie": tg.new_group("南街社区", forum=True)["id"],
        "fire_station": tg.new_group("城区消防站")["id"],
    }
    topics = {"nanjie": tg.new_topic(chats["nanjie"], "随手反馈")}
    return chats, topics


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """On PostgreSQL, each test's databases go when it ends (SQLite files go with tmp_path)."""
    yield
    drop_created()


@pytest.fixture
def tg() -> FakeTelegram:
    fake = FakeTelegram(token=TOKEN)
    yield fake
    assert fake.unsupported == [], f"the bot called methods the fake lacks: {fake.unsupported}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def start_app(config: Config, tg: FakeTelegram, clock: FakeClock) -> Application:
    waits = Waits()
    app = build_application(
        config,
        TOKEN,
        request=FakeRequest(tg),
        clock=clock,
        rate_limit=False,
        retry=RetryPolicy(sleep=waits),
        backoff=FAST_BACKOFF,
    )
    app.bot_data["test_waits"] = waits
    await app.initialize()
    await on_startup(app)
    await app.start()
    return app


async def stop_app(app: Application) -> None:
    await app.bot_data["services"].delivery.stop()
    await app.stop()
    await app.shutdown()
    await on_shutdown(app)


@pytest.fixture
async def stage(tmp_path: Path, tg: FakeTelegram, clock: FakeClock) -> AsyncIterator[Stage]:
    chats, topics = make_world(tg)
    config = make_config(tmp_path, chats, topics)
    stage = Stage(tg, config, await start_app(config, tg, clock), clock, chats, topics)
    try:
        yield stage
    finally:
        await stop_app(stage.app)  # a test may have restarted it
