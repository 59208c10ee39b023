"""The fake's injected faults look to python-telegram-bot as the real ones do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

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


async def test_random_faults_hit_a_share_of_calls_the_same_way_for_a_seed(fake: FakeTelegram):
    """A normal month in miniature: each kind as PTB sees it, and a seed replays it."""
    group = fake.new_group("西关")["id"]

    async def month(seed: int) -> list[str]:
        fake.random_faults(0.3, seed=seed)
        seen = []
        async with Bot(fake.token, request=FakeRequest(fake)) as bot:
            for i in range(60):
                try:
                    await bot.send_message(group, f"卡片 {i}")
                    seen.append("ok")
                except RetryAfter as exc:
                    assert "retry" in exc.message.lower()
                    seen.append("429")
                except TimedOut:
                    seen.append("timeout")
                except NetworkError as exc:
                    assert "Bad Gateway" in exc.message
                    seen.append("502")
        fake.random_faults(0, seed=0)
        return seen

    first = await month(7)
    assert 5 <= len(first) - first.count("ok") <= 35  # about 30 %
    assert set(first) == {"ok", "429", "timeout", "502"}
    assert await month(7) == first
    assert sum(fake.faults_met.values()) == 2 * (len(first) - first.count("ok"))
    assert fake.calls_to("getMe")  # start-up calls are spared
    # What was applied shows in the chat; lost answers are marked on the call.
    lost = [c for c in fake.calls_to("sendMessage") if c.lost]
    assert len(lost) == fake.faults_met["lost-after"] > 0
    assert all(fake.sent_by(group, c.response["result"]["message_id"]) is c for c in lost)
    assert len(fake.turned_away) == fake.faults_met["502"] + fake.faults_met["lost-before"]


async def test_the_client_can_be_stopped_right_after_telegram_applied_a_call(
    fake: FakeTelegram, bot: Bot
):
    """`on_applied` runs once the call took effect and before its answer leaves: the place to
    kill a bot process, so that the message exists and the bot never heard of it."""
    group = fake.new_group("西关")["id"]
    seen: list[tuple[str, int]] = []
    fake.on_applied = lambda call: seen.append((call.method, len(fake.messages(group))))
    await bot.send_message(group, "卡片")
    assert seen == [("sendMessage", 1)]
    assert fake.calls_to("sendMessage")[0].at > 0


def test_people_poll_cheaply_what_changed(fake: FakeTelegram):
    group = fake.new_group("西关")["id"]
    staff = fake.person("值班员")
    fake.add_member(group, staff)
    first = staff.text("一", chat=group)["message"]["message_id"]
    staff.text("二", chat=group)
    newer = fake.messages_after(group, first)
    assert [m["text"] for m in newer] == ["二"]
    assert fake.view(group, first)["text"] == "一"
    assert fake.sent_by(group, first) is None  # a person's message, not the bot's
    rider = fake.person("骑手")
    press = rider.press_data({"chat": {"id": rider.id}, "message_id": 1}, "v1:x")
    query_id = press["callback_query"]["id"]
    assert fake.answer_to(query_id) is None
    assert fake.callback_query(query_id)["data"] == "v1:x"
