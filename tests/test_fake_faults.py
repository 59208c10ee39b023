"""The fake's injected faults look to python-telegram-bot as the real ones do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.fake_telegram import FakeRequest, FakeTelegram, FakeTelegramServer
from tests.images import jpeg


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


def retry_after(fake: FakeTelegram, method: str) -> int:
    """The retry_after the fake last answered to this method."""
    response = fake.calls_to(method)[-1].response
    assert response is not None and response["error_code"] == 429
    return response["parameters"]["retry_after"]


async def test_a_group_takes_20_messages_a_minute_then_429_until_the_first_is_a_minute_old(
    fake: FakeTelegram, bot: Bot
):
    now = [1000.0]
    fake.clock = lambda: now[0]
    fake.group_pace()  # Telegram's 20 a minute
    group, other = fake.new_group("东关")["id"], fake.new_group("西关")["id"]
    rider = fake.person("骑手")
    rider.start()
    for i in range(20):
        await bot.send_message(group, f"卡片{i}")
        now[0] += 1.0  # one a second: the 20th goes at 1019
    with pytest.raises(RetryAfter):
        await bot.send_message(group, "卡片20")
    # The first is a minute old at 1060.
    assert fake.calls_to("sendMessage")[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 40",
        "parameters": {"retry_after": 40},
    }
    assert len(fake.messages(group)) == 20  # the refused one was not posted
    # Other chats have their own pace; private chats are not paced this way.
    assert (await bot.send_message(other, "别的群")).chat.id == other
    for _ in range(25):
        await bot.send_message(rider.id, "工单号")
    now[0] += 39.5
    with pytest.raises(RetryAfter):
        await bot.send_message(group, "卡片20")
    assert retry_after(fake, "sendMessage") == 1  # whole seconds, at least 1
    now[0] += 0.5
    await bot.send_message(group, "卡片20")
    with pytest.raises(RetryAfter):  # the second of the burst is still within the minute
        await bot.send_message(group, "卡片21")
    assert fake.pace is not None and fake.pace.refused == 3


async def test_an_album_counts_each_photo_against_the_pace(fake: FakeTelegram, bot: Bot):
    now = [1000.0]
    fake.clock = lambda: now[0]
    fake.group_pace(per_minute=20, minute=6.0)  # a compressed minute
    group = fake.new_group("东关")["id"]
    for i in range(18):
        await bot.send_message(group, f"卡片{i}")
    album = [InputMediaPhoto(jpeg(seed=i)) for i in range(3)]
    with pytest.raises(RetryAfter):
        await bot.send_media_group(group, album)  # 3 more than the 2 left
    assert retry_after(fake, "sendMediaGroup") == 6
    now[0] += 6.0
    assert len(await bot.send_media_group(group, album)) == 3
    fake.group_pace(None)
    for i in range(30):
        await bot.send_message(group, f"无限{i}")  # off: nothing is refused


async def test_the_pace_over_http_is_retry_after(fake: FakeTelegram):
    fake.group_pace(per_minute=1)
    group = fake.new_group("东关")["id"]
    with FakeTelegramServer(fake) as server:
        async with Bot(fake.token, base_url=server.base_url) as bot:
            await bot.send_message(group, "卡片")
            with pytest.raises(RetryAfter, match="Flood control exceeded"):
                await bot.send_message(group, "卡片")


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
