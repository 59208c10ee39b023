"""The fake's group membership, read through python-telegram-bot as the bot reads it.

Each ChatMember status parses into the library's own class (so the JSON has every field
Telegram sends), leaving and bans post Telegram's service message, and the errors are
Telegram's. The bot's reading of a status (handlers/telegram/members.py) is checked on the
same fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    Update,
)
from telegram.error import BadRequest, Forbidden

from bot.ports import MembershipUnknown
from handlers.telegram.members import TelegramMembers
from tests.fake_telegram import FakeRequest, FakeTelegram


@pytest.fixture
async def bot() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    fake = FakeTelegram()
    async with Bot(fake.token, request=FakeRequest(fake)) as bot:
        yield fake, bot
    assert fake.unsupported == []


async def test_every_status_has_telegrams_shape(bot: tuple[FakeTelegram, Bot]) -> None:
    fake, api = bot
    owner, admin, member, muted, gone, banned, outsider = (
        fake.person(n) for n in ("群主", "管理员", "成员", "禁言", "已退", "被踢", "路人")
    )
    group = fake.new_group(
        "东关社区",
        owner=owner.user,
        members=[(admin, "administrator"), member, muted, gone, banned],
    )["id"]
    fake.restrict(group, muted, can_send_messages=False, until_date=1_900_000_000)
    fake.leave(group, gone.user)
    fake.ban(group, banned, by=admin)
    expected = {
        owner: ChatMemberOwner,
        admin: ChatMemberAdministrator,
        member: ChatMemberMember,
        muted: ChatMemberRestricted,
        gone: ChatMemberLeft,
        banned: ChatMemberBanned,
        outsider: ChatMemberLeft,
    }
    for person, kind in expected.items():
        found = await api.get_chat_member(group, person.id)
        assert type(found) is kind and found.user.id == person.id, (person, found)
    restricted = await api.get_chat_member(group, muted.id)
    assert restricted.is_member and not restricted.can_send_messages
    assert restricted.until_date.year == 2030
    assert await api.get_chat_member_count(group) == 5  # owner, admin, member, muted, bot
    # Telegram's words for what it cannot find or may not show.
    with pytest.raises(BadRequest, match=r"^User not found$"):
        await api.get_chat_member(group, 7_999_999_999)
    with pytest.raises(BadRequest, match=r"^Invalid user_id specified$"):
        await api.get_chat_member(group, 0)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await api.get_chat_member(-100999, member.id)
    fake.set_bot_status(group, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await api.get_chat_member(group, member.id)


async def test_leaving_posts_a_service_message_and_hides_the_chat(
    bot: tuple[FakeTelegram, Bot],
) -> None:
    fake, api = bot
    staff, admin = fake.person("张三"), fake.person("管理员")
    group = fake.new_group("东关社区", members=[staff, (admin, "administrator")])["id"]
    card = fake.bot_messages(group)  # nothing yet; the bot posts a message to press on
    sent = await api.send_message(group, "card")
    assert card == [] and fake.can_see(group, staff.id)
    update = Update.de_json(staff.leave(group), api)
    assert update.message.left_chat_member.id == staff.id
    assert update.message.from_user.id == staff.id
    assert not fake.can_see(group, staff.id)
    with pytest.raises(AssertionError, match="cannot see chat"):
        staff.press_data(sent.to_dict(), "v1:r:1:acc")
    fake.make_public(group, "dongguan_suishou")
    assert fake.can_see(group, staff.id)  # anyone may read a public group...
    kicked = Update.de_json(fake.ban(group, admin.user, by=fake.person("群主2")), api)
    assert kicked.message.left_chat_member.id == admin.id
    assert not fake.can_see(group, admin.id)  # ...except those banned from it


async def test_the_bots_reading_of_membership(bot: tuple[FakeTelegram, Bot]) -> None:
    fake, api = bot
    members = TelegramMembers(api)
    people = {n: fake.person(n) for n in ("成员", "管理员", "禁言", "退出禁言", "已退", "被踢")}
    group = fake.new_group(
        "东关社区",
        members=[(p, "administrator" if n == "管理员" else "member") for n, p in people.items()],
    )["id"]
    fake.restrict(group, people["禁言"], can_send_messages=False)
    fake.restrict(group, people["退出禁言"], is_member=False)
    fake.leave(group, people["已退"])
    fake.ban(group, people["被踢"])
    seen = {n: await members.is_member(group, p.id) for n, p in people.items()}
    assert seen == {
        "成员": True,
        "管理员": True,
        "禁言": True,  # restricted, but still in the group
        "退出禁言": False,
        "已退": False,
        "被踢": False,
    }
    assert await members.is_member(group, 7_999_999_999) is False  # user not found
    fake.fail_next("getChatMember", 502, "Bad Gateway")  # once: asked again, and answered
    assert await members.is_member(group, people["成员"].id) is True
    fake.fail_next("getChatMember", 502, "Bad Gateway", times=3)  # every try
    with pytest.raises(MembershipUnknown):
        await members.is_member(group, people["成员"].id)
