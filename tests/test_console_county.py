"""The county's view in the console, over HTTP: the figures of /stats for a period with the
communities ranked, the chart and the overdue list; the ledger as a file; the weekly
digest as the chat gets it; the map's data. Supervisors see every community; a community's
desk sees its own only, and asking for another's (or the county's) is refused in words."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from bot.reporting.digest import previous_week
from bot.reporting.ledger_files import read_xlsx
from bot.reporting.metrics import week_of
from handlers import web
from tests.conftest import IN_XIGUAN, Stage, words
from tests.console import StaffBrowser, invite
from tests.test_casework import accept, card_of, reported, resolve, staff_of
from tests.test_rider_intake import buttons

TOWN = "113.1,36.0,113.3,36.2"  # west,south,east,north around the example county's town


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"c" * 40)
    yield app


async def at_desk(stage: Stage, app: Starlette, desk: str, name: str = "赵六") -> StaffBrowser:
    browser = StaffBrowser(app)
    await browser.sign_in(await invite(stage, name, desk))
    return browser


def figure(page: str, key: str) -> str:
    found = re.search(rf'<td id="m-{key}">([^<]*)</td>', page)
    assert found, f"no figure {key}"
    return html.unescape(found.group(1))


def error_of(page: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def ranking(page: str) -> list[tuple[str, str]]:
    """(community, 办结率) in the ranking's order."""
    table = page.split('id="ranking"', 1)[1].split("</table>", 1)[0]
    return [
        (html.unescape(re.sub(r"<[^>]+>", "", name)), rate)
        for name, rate in re.findall(r"<tr><td>\d+</td><td>(.*?)</td><td>([^<]*)</td>", table)
    ]


async def fixed_and_confirmed(stage: Stage) -> None:
    """#1 at 东关 (fire, 24 h): accepted, resolved, confirmed by the rider on Telegram."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已清理通道")
    notice = rider.last_bot_message()
    assert buttons(notice) == ["✅ 已解决", "❌ 未解决"]
    await stage.send(rider.press(notice, "✅ 已解决"))
    assert "状态：已结案" in words(card_of(stage, "dongguan"))


async def test_signed_out_every_county_page_asks_to_sign_in(web_app: Starlette) -> None:
    browser = StaffBrowser(web_app)
    for path in ("/console/figures", "/console/ledger", "/console/digest", "/console/map"):
        answer = await browser.open(path)
        assert answer.status_code == 401 and "请在你的工作群里发送 /web" in answer.text, path
    data = await browser.open(f"/console/map/data?bbox={TOWN}")
    assert data.status_code == 401 and data.json() == {"error": "signed_out"}
    chart = await browser.open("/console/figures/chart.png")
    assert chart.status_code == 401 and chart.content == b""
    await browser.close()


async def test_the_county_at_100_percent_after_the_rider_confirms(
    stage: Stage, web_app: Starlette
) -> None:
    await fixed_and_confirmed(stage)
    await reported(stage, point=IN_XIGUAN, name="李师傅")  # #2 at 西关, open, not yet due
    stage.clock.advance(minutes=1)
    county = await at_desk(stage, web_app, "county")
    page = (await county.open("/console/figures?period=this_week")).text
    assert "全县 · 2026-11-16 至 2026-11-20" in html.unescape(page)
    assert figure(page, "closure_rate") == "100%" and figure(page, "on_time_rate") == "100%"
    assert figure(page, "received") == "2" and figure(page, "due") == "1"
    assert figure(page, "closed") == "1" and figure(page, "closed_fixed") == "1"
    assert figure(page, "open_at_end") == "1" and figure(page, "overdue_open") == "0"
    assert figure(page, "satisfaction") == "100%" and figure(page, "feedback_count") == "1"
    # Ranked as /stats ranks: 东关 (1 of 1 due) first; the others have nothing due.
    ranked = ranking(page)
    assert ranked[0] == ("东关社区", "100%") and ("西关社区", "—") in ranked
    assert len(ranked) == len(stage.config.communities) + 1  # and the county centre's own
    assert 'id="overdue-none"' in page
    # The digest's chart for the period, as a PNG.
    src = html.unescape(re.search(r'id="chart" src="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    chart = await county.open(src)
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG")
    # One community picked: its figures, no ranking, no chart.
    one = (await county.open("/console/figures?period=this_week&community=xiguan")).text
    assert figure(one, "received") == "1" and figure(one, "closure_rate") == "—"
    assert 'id="ranking"' not in one and 'id="chart"' not in one
    await county.close()


async def test_overdue_reports_are_listed_and_open_their_pages(
    stage: Stage, web_app: Starlette
) -> None:
    await reported(stage)  # #1 at 东关, fire: due in 24 hours
    await reported(stage, point=IN_XIGUAN, name="李师傅")  # #2 at 西关
    stage.clock.advance(hours=30)
    county = await at_desk(stage, web_app, "county")
    page = (await county.open("/console/figures")).text  # the last 30 days
    assert figure(page, "overdue_open") == "2" and figure(page, "closure_rate") == "0%"
    assert re.findall(r'<a href="/console/r/(\d+)">', page.split('id="overdue"')[1]) == ["1", "2"]
    assert (await county.open("/console/r/1")).status_code == 200
    # 西关's desk: its own report only, its own figures, no ranking nor chart.
    xiguan = await at_desk(stage, web_app, "xiguan", "孙七")
    own = (await xiguan.open("/console/figures")).text
    assert "西关社区 · " in own and figure(own, "received") == "1"
    assert re.findall(r'<a href="/console/r/(\d+)">', own.split('id="overdue"')[1]) == ["2"]
    assert 'id="ranking"' not in own and 'id="chart"' not in own
    await county.close()
    await xiguan.close()


async def test_a_desk_cannot_ask_for_the_county_or_another_community(
    stage: Stage, web_app: Starlette
) -> None:
    await reported(stage)  # at 东关
    xiguan = await at_desk(stage, web_app, "xiguan")
    for path in (
        "/console/figures?community=dongguan",
        "/console/ledger?community=dongguan",
        "/console/digest?desk=dongguan",
        "/console/digest?desk=county",
        "/console/map?community=dongguan",
    ):
        answer = await xiguan.open(path)
        assert answer.status_code == 403 and error_of(answer.text) == "只能查看本社区的数据。", (
            path
        )
    data = await xiguan.open(f"/console/map/data?bbox={TOWN}&community=dongguan")
    assert data.status_code == 403 and data.json() == {"error": "只能查看本社区的数据。"}
    assert (await xiguan.open("/console/figures/chart.png")).status_code == 403
    # Its own community, asked for by name, is fine.
    assert (await xiguan.open("/console/figures?community=xiguan")).status_code == 200
    await xiguan.close()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("period=fortnight", "没有这个时段"),
        ("period=range", "日期不对"),
        ("period=range&from=2026-13-01", "日期不对"),
        ("period=range&from=2026-11-20&to=2026-11-01", "日期不对"),
        ("period=range&from=20261101", "日期不对"),
        ("period=range&from=2025-01-01&to=2026-11-20", "一次最多 366 天"),
        ("period=range&from=2026-12-01&to=2026-12-31", "这个时段还没开始"),
        ("community=nowhere", "没有这个社区"),
    ],
)
async def test_a_period_that_cannot_be_read_is_refused_in_words(
    stage: Stage, web_app: Starlette, query: str, said: str
) -> None:
    county = await at_desk(stage, web_app, "county")
    for path in ("/console/figures", "/console/map"):
        answer = await county.open(f"{path}?{query}")
        assert answer.status_code == 400 and said in error_of(answer.text), path
    data = await county.open(f"/console/map/data?bbox={TOWN}&{query}")
    assert data.status_code == 400 and said in data.json()["error"]
    await county.close()


async def test_a_range_counts_its_whole_days(stage: Stage, web_app: Starlette) -> None:
    await fixed_and_confirmed(stage)
    stage.clock.advance(days=3)
    county = await at_desk(stage, web_app, "county")
    page = (await county.open("/console/figures?period=range&from=2026-11-20&to=2026-11-20")).text
    assert "2026-11-20 至 2026-11-20" in page and figure(page, "received") == "1"
    before = await county.open("/console/figures?period=range&from=2026-11-01&to=2026-11-19")
    assert figure(before.text, "received") == "0" and figure(before.text, "closure_rate") == "—"
    await county.close()


async def test_the_ledger_downloads_for_a_range(stage: Stage, web_app: Starlette) -> None:
    await fixed_and_confirmed(stage)
    await reported(stage, point=IN_XIGUAN, name="李师傅")  # #2 at 西关
    county = await at_desk(stage, web_app, "county")
    xlsx = await county.open("/console/ledger?from=2026-11-01&to=2026-11-30&format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert xlsx.headers["content-disposition"] == (
        'attachment; filename="suishou-ledger-county-2026-11-01-2026-11-30.xlsx"'
    )
    assert xlsx.headers["cache-control"] == "no-store"
    sheets = read_xlsx(xlsx.content)
    rows = sheets["工单台账"]
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == [1, 2]
    assert [r[1] for r in rows[1:]] == ["东关社区", "西关社区"]
    summary = {r[0]: r for r in sheets["社区统计"][1:]}
    assert set(summary) >= {"东关社区", "西关社区", "南街社区"}
    assert summary["东关社区"][6] == 100.0  # 办结率(%)
    # CSV, for one community the county picks; UTF-8 with a BOM for Excel.
    plain = await county.open(
        "/console/ledger?from=2026-11-01&to=2026-11-30&format=csv&community=xiguan"
    )
    assert plain.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        "suishou-ledger-xiguan-2026-11-01-2026-11-30.csv" in plain.headers["content-disposition"]
    )
    lines = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert lines[0][0] == "工单号" and [r[0] for r in lines[1:]] == ["2"]
    # A community's desk: its own reports and its own line of figures only.
    xiguan = await at_desk(stage, web_app, "xiguan")
    own = read_xlsx((await xiguan.open("/console/ledger?from=2026-11-01&to=2026-11-30")).content)
    assert [r[0] for r in own["工单台账"][1:]] == [2]
    assert [r[0] for r in own["社区统计"][1:]] == ["西关社区"]
    await county.close()
    await xiguan.close()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("from=2026-11-30&to=2026-11-01", "日期不对"),
        ("from=yesterday", "日期不对"),
        ("to=2026-11-01", "日期不对"),
        ("from=2024-01-01&to=2026-11-30", "一次最多 366 天"),
        ("from=2026-11-01&format=pdf", "xlsx 和 csv"),
    ],
)
async def test_a_bad_ledger_request_gets_words_not_a_file(
    stage: Stage, web_app: Starlette, query: str, said: str
) -> None:
    county = await at_desk(stage, web_app, "county")
    answer = await county.open(f"/console/ledger?{query}")
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
    assert said in error_of(answer.text) and "content-disposition" not in answer.headers
    await county.close()


def plain_text(page: str) -> str:
    found = re.search(r'<pre class="digest" id="digest">(.*?)</pre>', page, re.S)
    assert found, "no digest on the page"
    return html.unescape(found.group(1))


async def test_the_weekly_digest_as_the_chats_get_it(stage: Stage, web_app: Starlette) -> None:
    await fixed_and_confirmed(stage)
    await reported(stage, point=IN_XIGUAN, name="李师傅")  # #2 at 西关, still open
    stage.clock.current = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday of W48
    county = await at_desk(stage, web_app, "county")
    page = (await county.open("/console/digest")).text
    week = previous_week(stage.clock.now(), stage.config.timezone)
    sent = {d.target: d for d in await stage.services.digests.build(week)}
    text = plain_text(page)
    assert text == html.unescape(re.sub(r"<[^>]+>", "", sent["_sup"].text))
    assert "全县随手反馈 · 2026-W47 周报" in text and "东关社区：办结率 100%" in text
    assert 'id="digest-chart" src="data:image/png;base64,' in page
    assert "没有发到工作群" in page
    # Once the scheduler sent it, the page says when.
    assert "_sup" in await stage.services.digests.send_week(week)
    assert "已于 " in (await county.open("/console/digest")).text
    # The county reads any desk's; a desk its own.
    theirs = plain_text((await county.open("/console/digest?desk=xiguan&week=2026-W47")).text)
    assert theirs == html.unescape(re.sub(r"<[^>]+>", "", sent["xiguan"].text))
    xiguan = await at_desk(stage, web_app, "xiguan")
    own = (await xiguan.open("/console/digest")).text
    assert plain_text(own) == theirs and 'id="desks"' not in own
    so_far = (await xiguan.open("/console/digest?week=this")).text
    assert "本周还没过完" in so_far
    assert "2026-W48 周报（11月23日–11月24日）" in plain_text(so_far)  # up to today
    for bad in ("2026-W99", "W47", "0001-W01"):
        answer = await xiguan.open(f"/console/digest?week={bad}")
        assert answer.status_code == 400 and "2026-W47" in error_of(answer.text), bad
    future = await xiguan.open("/console/digest?week=2026-W50")
    assert future.status_code == 400 and error_of(future.text) == "这个时段还没开始。"
    assert week == week_of(datetime(2026, 11, 18, tzinfo=UTC), stage.config.timezone)
    await county.close()
    await xiguan.close()


async def test_the_chart_is_drawn_anew_after_a_step(stage: Stage, web_app: Starlette) -> None:
    """A chart is kept a minute for the same period; a step taken meanwhile redraws it."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已清理通道")
    stage.clock.advance(minutes=1)  # the clock stays here: the same minute throughout
    county = await at_desk(stage, web_app, "county")
    waiting = (await county.open("/console/figures/chart.png?period=this_week")).content
    again = (await county.open("/console/figures/chart.png?period=this_week")).content
    assert again == waiting
    await stage.send(rider.press(rider.last_bot_message(), "✅ 已解决"))
    fixed = (await county.open("/console/figures/chart.png?period=this_week")).content
    assert fixed.startswith(b"\x89PNG") and fixed != waiting
    await county.close()
