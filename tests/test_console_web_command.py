"""/web in a dispatcher chat: a one-time sign-in link for that chat's desk, in a private
message. The link is never posted in the group; someone the bot cannot write to privately
is told in the group to /start the bot first."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from handlers import web
from storage.tables import staff_links
from tests.conftest import Stage, words
from tests.console import StaffBrowser
from tests.test_casework import staff_of

LINK = re.compile(r"http://127\.0\.0\.1:8080/console/in/[A-Za-z0-9_-]+")


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"w" * 40)
    yield app


async def test_web_sends_a_private_link_for_the_chats_desk(
    stage: Stage, web_app: Starlette
) -> None:
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.start())  # they have talked to the bot before
    await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
    group = [words(m) for m in stage.chat_messages("xiguan")]
    assert any("私信发给你" in w for w in group)
    assert not any(LINK.search(w) for w in group)  # never the link in the group
    private = words(stage.tg.bot_messages(staff.id)[-1])
    assert "「西关社区」工作台的登录链接" in private and "15 分钟内有效" in private
    found = LINK.search(private)
    assert found
    browser = StaffBrowser(web_app)
    queue = await browser.sign_in(found.group(0))
    assert queue.status_code == 200 and "张三 · 西关社区" in queue.text
    await browser.close()


async def test_web_in_the_supervisors_chat_is_for_the_county(
    stage: Stage, web_app: Starlette
) -> None:
    boss = staff_of(stage, "supervisors", "王主任")
    await stage.send(boss.start())
    await stage.send(boss.command("/web", chat=stage.chats["supervisors"]))
    found = LINK.search(words(stage.tg.bot_messages(boss.id)[-1]))
    assert found
    browser = StaffBrowser(web_app)
    queue = await browser.sign_in(found.group(0))
    assert "王主任 · 壶关县网格化服务管理中心" in queue.text
    assert "全部社区" in queue.text  # the county sees every community, with a filter
    await browser.close()


async def test_someone_the_bot_cannot_message_is_told_in_the_group(stage: Stage) -> None:
    staff = staff_of(stage, "xiguan", "张三")  # never opened the bot
    await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
    await stage.until(lambda: any("/start" in words(m) for m in stage.chat_messages("xiguan")))
    group = [words(m) for m in stage.chat_messages("xiguan")]
    told = next(w for w in group if "无法私信你" in w)
    assert "张三" in told and "/start" in told
    assert not any(LINK.search(w) for w in group)
    assert stage.tg.bot_messages(staff.id) == []
    # The link made for the failed try does not work (only hashes are kept anyway).
    async with stage.services.db.transaction() as conn:
        live = await conn.scalar(
            select(func.count()).select_from(staff_links).where(staff_links.c.used_at.is_(None))
        )
    assert live == 0


async def test_web_outside_a_desk_says_where_it_works(stage: Stage) -> None:
    other = stage.tg.new_group("闲聊群")["id"]
    person = stage.person("路人")
    stage.tg.add_member(other, person)
    await stage.send(person.command("/web", chat=other))
    assert "不是工作群" in words(stage.tg.bot_messages(other)[-1])


async def test_a_revoked_person_gets_no_link(stage: Stage) -> None:
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.start())
    person = await stage.services.staff.from_account("telegram", str(staff.id), "张三")
    await stage.services.staff.revoke(person.id)
    await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
    assert "你的账号已停用" in words(stage.chat_messages("xiguan")[-1])
    assert not any(LINK.search(words(m)) for m in stage.tg.bot_messages(staff.id))


async def test_web_again_and_again_gives_a_few_links_then_says_wait(stage: Stage) -> None:
    """Each link is a live credential in a private message: a flood of /web from one person
    makes three, then the group is told to look in the private chat; later it works again."""
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.start())
    for _ in range(6):
        await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
    links = [m for m in stage.tg.bot_messages(staff.id) if LINK.search(words(m))]
    assert len(links) == 3
    assert "请查看与机器人的私聊" in words(stage.chat_messages("xiguan")[-1])
    other = staff_of(stage, "xiguan", "李四")  # a colleague is not held back by it
    await stage.send(other.start())
    await stage.send(other.command("/web", chat=stage.chats["xiguan"]))
    assert LINK.search(words(stage.tg.bot_messages(other.id)[-1]))
    stage.clock.advance(minutes=11)
    await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
    assert len([m for m in stage.tg.bot_messages(staff.id) if LINK.search(words(m))]) == 4


async def test_leaving_the_desks_chat_ends_its_console(stage: Stage, web_app: Starlette) -> None:
    """Telegram says 张三 left 西关's group: his console for 西关 refuses his next click; a
    colleague who stayed keeps hers."""
    browsers = {}
    for name in ("张三", "李四"):
        person = staff_of(stage, "xiguan", name)
        await stage.send(person.start())
        await stage.send(person.command("/web", chat=stage.chats["xiguan"]))
        found = LINK.search(words(stage.tg.bot_messages(person.id)[-1]))
        assert found
        browsers[name] = (person, StaffBrowser(web_app))
        assert (await browsers[name][1].sign_in(found.group(0))).status_code == 200
    zhang, his = browsers["张三"]
    await stage.send(zhang.leave(stage.chats["xiguan"]))
    assert (await his.open("/console")).status_code == 401
    assert (await browsers["李四"][1].open("/console")).status_code == 200
    for _, browser in browsers.values():
        await browser.close()
