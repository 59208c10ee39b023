"""The fake's injected faults look to python-telegram-bot as the real ones do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, TimedOut

from tests.fake_telegram import FakeRequest, FakeTelegram, FakeTelegramServer


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, request=FakeRequest(fake)) as bot:
        yield bot


async def test_bad_gateway_is_nginx_html_and_a_network_error(fake: FakeTelegram, bot: Bot):
    group = fake.new_group("西关")["id"]
    fake.bad_gateway("sendMessage")
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)") as caught:
        await bot.send_message(group, "卡片")
    assert not isinstance(caught.value, BadRequest)
    assert fake.messages(group) == []  # nothing was posted
    assert (await bot.send_message(group, "卡片")).text == "卡片"  # only the next call failed


async def test_an_outage_fails_every_call_until_it_ends(fake: FakeTelegram):
    now = [1000.0]
    fake.clock = lambda: now[0]
    fake.outage(10)
    bot = Bot(fake.token, request=FakeRequest(fake))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.initialize()  # get_me
    now[0] += 9.9
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.initialize()
    now[0] += 0.1
    await bot.initialize()
    assert bot.username == fake.bot_user["username"]
    await bot.shutdown()


async def test_lost_responses_before_and_after_the_call_took_effect(fake: FakeTelegram, bot: Bot):
    group = fake.new_group("西关")["id"]
    fake.lose_response("sendMessage", applied=False)
    with pytest.raises(TimedOut):
        await bot.send_message(group, "一")
    assert fake.messages(group) == []
    fake.lose_response("sendMessage", applied=True)
    with pytest.raises(TimedOut):
        await bot.send_message(group, "二")
    assert [m["text"] for m in fake.messages(group)] == ["二"]  # it happened all the same


async def test_a_lost_response_over_http_is_a_hang_up(fake: FakeTelegram):
    group = fake.new_group("西关")["id"]
    with FakeTelegramServer(fake) as server:
        async with Bot(fake.token, base_url=server.base_url) as bot:
            fake.lose_response("sendMessage", applied=True)
            with pytest.raises(NetworkError):
                await bot.send_message(group, "二")
            fake.bad_gateway("sendMessage")
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(group, "三")
    assert [m["text"] for m in fake.messages(group)] == ["二"]


async def test_a_group_upgraded_to_a_supergroup(fake: FakeTelegram, bot: Bot):
    owner = fake.person("群主")
    group = fake.new_group("西关", supergroup=False, owner=owner.user)["id"]
    new_id, updates = fake.upgrade_to_supergroup(group)
    assert str(new_id).startswith("-100") and fake.chat(new_id)["type"] == "supergroup"
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group, "卡片")
    assert caught.value.new_chat_id == new_id
    assert [fake.calls_to("sendMessage")[-1].response["description"]] == [
        "Bad Request: group chat was upgraded to a supergroup chat"
    ]
    assert (await bot.send_message(new_id, "卡片")).chat.id == new_id
    to, frm = (u["message"] for u in updates)
    assert to["chat"]["id"] == group and to["migrate_to_chat_id"] == new_id
    assert frm["chat"]["id"] == new_id and frm["migrate_from_chat_id"] == group
    assert fake.bot_receives(updates[0]) and fake.bot_receives(updates[1])
    member = await bot.get_chat_member(new_id, owner.id)
    assert member.status == "creator"


async def test_kicked_and_blocked_are_permanent_forbidden(fake: FakeTelegram, bot: Bot):
    group = fake.new_group("西关", supergroup=False)["id"]
    rider = fake.person("骑手")
    rider.start()
    fake.set_bot_status(group, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group, "卡片")
    fake.block_bot(rider.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(rider.id, "工单号")
