"""Attacks on the web channel and its identities, and its bad days: each test is a way the
page, a link or a merge could go wrong for a rider, and what the rider must see instead."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.delivery.outbox import WEB
from bot.offline import NoMembers
from bot.people.staff import COUNTY
from bot.services import Services
from handlers import web
from handlers.web.courier import WebCourier
from storage.tables import reports, rider_reads, riders
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, FakeClock, Stage, make_config
from tests.images import jpeg
from tests.test_web_http import CHATS, SECRET, SEPARATE, World, web_world
from tests.test_web_profile import code_for
from tests.web import BASE, WebRider, card_recorded, new_key


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"a" * 40)
    yield app


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for w in web_world(tmp_path):
        yield w


async def post(device: WebRider, path: str, **fields: str) -> Any:
    return await device.client.post(path, data={"csrf": device.csrf, **fields})


async def rows(db: Any, table: Any) -> list[Any]:
    async with db.transaction() as conn:
        return list((await conn.execute(select(table))).all())


def error_of(html: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


# ---- linking: one person, two channels --------------------------------------------------


async def test_a_rider_who_read_their_report_can_still_link_telegram(
    stage: Stage, web_app: Starlette
) -> None:
    """Reading a report's page remembers how far the rider read (rider_reads); the merge
    that a link code makes must carry that along, not trip over it."""
    tg_rider = stage.person("王师傅")
    phone = WebRider(web_app)
    await phone.open()
    assert (await phone.submit(point=IN_XIGUAN)).status_code == 201
    await card_recorded(stage)
    assert (await phone.open("/my/1")).status_code == 200  # read: rider_reads has a row
    linked = await post(phone, "/me/link", code=await code_for(stage, tg_rider))
    assert linked.status_code == 303, error_of(linked.text)
    (person,) = await rows(stage.services.db, riders)
    assert {r.rider_id for r in await rows(stage.services.db, reports)} == {person.id}
    assert {r.rider_id for r in await rows(stage.services.db, rider_reads)} == {person.id}
    page = await phone.open("/my/1")
    assert page.status_code == 200 and "工单 #1" in page.text
    await phone.close()


async def test_two_devices_that_both_read_a_report_merge_into_one_reader(
    stage: Stage, web_app: Starlette
) -> None:
    """The Telegram rider's own device and a second device (which joined the same report
    with +1) both read #1; linking the second keeps one read mark, the furthest."""
    tg_rider = stage.person("王师傅")
    first = WebRider(web_app)
    await first.open()
    assert (await post(first, "/me/link", code=await code_for(stage, tg_rider))).status_code == 303
    assert (await first.submit(point=IN_XIGUAN)).status_code == 201  # #1, the rider's own
    await card_recorded(stage)
    second = WebRider(web_app)
    await second.open()
    offered = await second.submit(point=IN_XIGUAN)
    assert offered.json()["similar"]["ticket"] == 1
    joined = await second.submit(point=IN_XIGUAN, extra={"join": "1"})
    assert joined.status_code == 201
    for phone in (first, second):
        assert (await phone.open("/my/1")).status_code == 200
    linked = await post(second, "/me/link", code=await code_for(stage, tg_rider))
    assert linked.status_code == 303, error_of(linked.text)
    assert len(await rows(stage.services.db, riders)) == 1
    assert len(await rows(stage.services.db, rider_reads)) == 1
    for phone in (first, second):
        await phone.close()


# ---- limits -----------------------------------------------------------------------------


async def test_a_burst_of_first_reports_from_a_new_phone_is_still_limited(
    tmp_path: Path,
) -> None:
    """A new device has no rider yet, so nothing counted it; twenty different forms sent
    at once (a script, not a double tap) must not file more reports than an hour allows."""
    async for world in web_world(tmp_path):
        limit = world.config.limits.reports_per_hour
        phone = world.rider()
        await phone.open()
        answers = await asyncio.gather(
            *(phone.submit(point=IN_DONGGUAN, extra=SEPARATE) for _ in range(limit + 10))
        )
        filed = [a for a in answers if a.status_code == 201]
        assert len(filed) <= limit, f"{len(filed)} reports filed, the limit is {limit}"
        assert {a.status_code for a in answers} <= {201, 429}
        assert len(world.app.state.web.intake._busy) == 0  # nothing kept of the burst
        await phone.close()


async def test_a_burst_from_a_known_rider_is_still_limited(tmp_path: Path) -> None:
    """The limit is checked before the photos are processed and counted after the report
    is made: forms sent together all pass the check before any is counted."""
    async for world in web_world(tmp_path):
        limit = world.config.limits.reports_per_hour
        phone = world.rider()
        await phone.open()
        assert (await phone.submit(point=IN_DONGGUAN, extra=SEPARATE)).status_code == 201
        answers = await asyncio.gather(
            *(phone.submit(point=IN_DONGGUAN, extra=SEPARATE) for _ in range(limit + 5))
        )
        filed = 1 + sum(a.status_code == 201 for a in answers)
        assert filed <= limit, f"{filed} reports filed, the limit is {limit}"
        await phone.close()


def photo_files(world: World) -> list[Path]:
    root = Path(world.config.photo_dir)
    return [p for p in root.rglob("*") if p.is_file()]


async def test_refused_forms_leave_no_photos_behind(world: World) -> None:
    """A form refused after its photos were checked (no location anywhere) keeps nothing:
    otherwise one device fills the disk with photos no report will ever show, unlimited,
    because a refusal is never counted against any limit."""
    phone = world.rider()
    await phone.open()
    for i in range(5):  # five different photos, and no location anywhere
        answer = await phone.submit(photos=[(jpeg(colour=(10 * i, 80, 40)), "image/jpeg")])
        assert answer.status_code == 422 and answer.json()["error"] == "form.no_location"
    assert photo_files(world) == []
    await phone.close()


# ---- malformed answers --------------------------------------------------------------------


async def test_an_absurd_round_number_is_a_bad_form_not_a_crash(
    stage: Stage, web_app: Starlette
) -> None:
    phone = WebRider(web_app)
    await phone.open()
    assert (await phone.submit(point=IN_XIGUAN)).status_code == 201
    await card_recorded(stage)
    answer = await post(phone, "/my/1/feedback", fixed="y", round="9" * 5000)
    assert answer.status_code == 400
    assert "提交的内容不完整" in error_of(answer.text)
    await phone.close()


# ---- staff seats ----------------------------------------------------------------------------


def test_no_community_may_be_called_county(tmp_path: Path) -> None:
    """A desk is a community id or "county" (the supervisors'): a community with the id
    "county" would be the supervisors' desk, and a grant for it would let its staff act on
    every community's reports. The configuration refuses the id."""
    from tests.test_config import example, problems_of

    raw = example()
    raw["communities"][0]["id"] = COUNTY
    text = "\n".join(problems_of(raw, tmp_path))
    assert "communities[0].id:" in text and "county" in text


# ---- bad days -------------------------------------------------------------------------------


async def test_a_submit_retried_after_a_restart_is_still_one_report(tmp_path: Path) -> None:
    """The process dies after the report is committed but before the phone hears back; the
    page retries the same form (same key, same cookie) against the restarted server."""
    key = new_key()
    config = make_config(tmp_path, CHATS, {})
    cookies: Any = None
    tickets = []
    for _ in range(2):
        services = Services.create(config, {WEB: WebCourier()}, FakeClock(), members=NoMembers())
        await services.start()
        app, _ = web.build(services, telegram_on=False, secret=SECRET)
        phone = WebRider(app)
        if cookies is not None:
            phone.client.cookies = cookies
        await phone.open()
        cookies = phone.client.cookies
        answer = await phone.submit(point=IN_DONGGUAN, key=key)
        tickets.append((answer.status_code, answer.json().get("ticket")))
        await phone.close()
        await services.stop()
    assert tickets == [(201, 1), (200, 1)]


async def test_a_revoked_person_granted_a_desk_again_may_work_there(stage: Stage) -> None:
    """A grant says "the person may work from this desk (again, if it had been revoked)";
    the person's own revocation must end with it, or the new grant silently does nothing
    (no desks, and every step refused as revoked)."""
    people = stage.services.staff
    person = await people.create("网页值班员")
    await people.grant(person.id, "nanjie")
    assert await people.revoke(person.id)
    await people.grant(person.id, "nanjie")
    assert await people.desks(person.id) == ["nanjie"]
    again = await people.get(person.id)
    assert again is not None and not again.revoked


async def test_a_reports_photo_is_reachable_by_no_url(world: World) -> None:
    """Photos live in the data folder, never under the page's static files: no path trick
    (dot segments, encoded slashes, the photo's own name) reaches one."""
    phone = world.rider()
    await phone.open()
    assert (await phone.submit(point=IN_DONGGUAN)).status_code == 201
    (photo,) = photo_files(world)
    name, folder = photo.name, photo.parent.name
    tries = [
        f"/static/{folder}/{name}",
        f"/static/../{folder}/{name}",
        f"/static/%2e%2e/%2e%2e/%2e%2e/{folder}/{name}",
        f"/static/..%2f..%2f{folder}%2f{name}",
        f"/photos/{folder}/{name}",
        f"/{name}",
        f"/my/1/{name}",
    ]
    for path in tries:
        answer = await phone.client.get(path)
        assert answer.status_code in (404, 405), path
        assert photo.read_bytes()[:64] not in answer.content, path
    await phone.close()


async def test_a_busy_database_is_a_server_error_the_page_retries_into_one_report(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite busy beyond its timeout mid-submit: the answer is a 5xx (the page's script
    retries the same form on anything that is not its JSON), and the retry files it once."""
    import sqlalchemy.exc

    from storage import drafts

    real = drafts.create
    calls = 0

    async def busy_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlalchemy.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(drafts, "create", busy_once)
    phone = world.rider()
    phone.client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app, raise_app_exceptions=False),
        base_url=BASE,
    )
    await phone.open()
    key = new_key()
    first = await phone.submit(point=IN_DONGGUAN, key=key)
    assert first.status_code == 500
    again = await phone.submit(point=IN_DONGGUAN, key=key)
    assert again.status_code == 201 and again.json()["ticket"] == 1
    assert await world.count(reports) == 1
    assert len(world.app.state.web.intake._busy) == 0  # the failed one let go of the device
    await phone.close()
