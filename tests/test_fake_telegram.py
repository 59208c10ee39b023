"""The fake Telegram Bot API, proven with python-telegram-bot itself (in-process and over HTTP)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator

import pytest
from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, MessageHandler, filters

from tests.fake_telegram import (
    FakeRequest,
    FakeTelegram,
    FakeTelegramServer,
    HtmlParseError,
    parse_html,
)


def jpeg_with_gps(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A camera-like JPEG carrying EXIF with a GPS position, as riders' phones produce."""
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "RiderPhone"
    exif[0x8825] = {1: "N", 2: (31.0, 13.0, 50.0), 3: "E", 4: (121.0, 28.0, 30.0)}
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def has_exif(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return len(image.getexif()) > 0


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    yield fake
    assert fake.unsupported == [], f"the bot used features the fake lacks: {fake.unsupported}"


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)
    ) as bot:
        yield bot


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=f"cb:{t}")] for t in labels]
    )


# --------------------------------------------------------------------- messages and edits


async def test_html_message_with_keyboard_edit_and_not_modified(fake: FakeTelegram, bot: Bot):
    rider = fake.person("小王", username="xiaowang")
    rider.start()
    sent = await bot.send_message(
        rider.id,
        "<b>Pothole</b> near &lt;Nanjing Rd&gt; — <a href='https://example.org/r/1'>map</a>",
        parse_mode="HTML",
        reply_markup=keyboard("Confirm", "Reject"),
    )
    assert sent.text == "Pothole near <Nanjing Rd> — map"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 7),
        ("text_link", 28, 3),
    ]
    stored = fake.last_bot_message(rider.id)
    assert stored["text"] == sent.text
    assert stored.html.startswith("<b>Pothole</b>")
    assert "html" not in stored  # the raw HTML is a side attribute, never JSON
    assert stored.buttons == ["Confirm", "Reject"]

    edited = await bot.edit_message_text(
        "<i>Confirmed</i>",
        rider.id,
        sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("Undo"),
    )
    assert edited.text == "Confirmed"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<i>Confirmed</i>",
            rider.id,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("Undo"),
        )
    # Omitting reply_markup on an edit removes the keyboard, as on Telegram.
    await bot.edit_message_text("Closed", rider.id, sent.message_id)
    assert fake.message(rider.id, sent.message_id).buttons == []
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", rider.id, 9999)


async def test_press_uses_the_current_keyboard(fake: FakeTelegram, bot: Bot):
    rider = fake.person("Li")
    rider.start()
    card = await bot.send_message(rider.id, "Report #1", reply_markup=keyboard("Accept"))
    await bot.edit_message_reply_markup(rider.id, card.message_id, reply_markup=keyboard("Done"))
    with pytest.raises(AssertionError, match="available: \\['Done'\\]"):
        rider.press(card.to_dict(), "Accept")
    update = Update.de_json(rider.press(card.to_dict(), "Done"), bot)
    query = update.callback_query
    assert query.data == "cb:Done"
    assert query.message.reply_markup.inline_keyboard[0][0].text == "Done"
    assert await bot.answer_callback_query(query.id, text="OK")
    assert fake.callback_answers[-1]["text"] == "OK"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    forged = Update.de_json(rider.press_data(card.to_dict(), "cb:Accept"), bot)
    assert forged.callback_query.data == "cb:Accept"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_send_errors_are_telegrams(fake: FakeTelegram, bot: Bot):
    rider = fake.person("Zhao")
    stranger = fake.person("Qian")
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(stranger.id, "hi")
    rider.start()
    fake.block_bot(rider.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(rider.id, "hi")
    fake.unblock_bot(rider.id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-1009999999999, "hi")
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "foo" at byte offset 3'):
        await bot.send_message(rider.id, "ok <foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag corresponding to start tag"):
        await bot.send_message(rider.id, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(
            rider.id,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="x" * 65)]]
            ),
        )
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(rider.id, "字" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(rider.id, "x", reply_to_message_id=4242)
    fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 7", parameters={"retry_after": 7}
    )
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(rider.id, "x")
    assert caught.value._retry_after.total_seconds() == 7
    assert (await bot.send_message(rider.id, "after the flood")).text == "after the flood"
    assert [c.status for c in fake.calls_to("sendmessage")][-2:] == [429, 200]


async def test_unknown_method_is_404_and_recorded(fake: FakeTelegram, bot: Bot):
    with pytest.raises(InvalidToken, match="Not Found"):
        await bot.set_chat_title(-100123, "x")
    assert fake.unsupported == ["setChatTitle"]
    fake.unsupported.clear()


async def test_wrong_token_is_unauthorized(fake: FakeTelegram):
    wrong = Bot("987654321:AAwrongwrongwrongwrongwrongwrongwr", request=FakeRequest(fake))
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await wrong.get_me()


# --------------------------------------------------------------------- files and media


async def test_photo_roundtrip_strips_exif_while_documents_keep_bytes(
    fake: FakeTelegram, bot: Bot
):
    rider = fake.person("Sun")
    rider.start()
    original = jpeg_with_gps()
    assert has_exif(original)

    sent = await bot.send_photo(rider.id, original, caption="<b>hole</b>", parse_mode="HTML")
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 68),
        (320, 240),
        (800, 600),
        (1280, 960),
    ]
    assert sent.caption == "hole"
    largest = await bot.get_file(sent.photo[-1].file_id)
    data = bytes(await largest.download_as_bytearray())
    assert data[:2] == b"\xff\xd8" and not has_exif(data)
    assert len(data) == sent.photo[-1].file_size

    update = Update.de_json(rider.photo(original, caption="坑"), bot)
    assert update.message.caption == "坑"
    biggest = update.message.photo[-1]
    assert (biggest.width, biggest.height) == (1280, 960)
    photo_bytes = bytes(await (await bot.get_file(biggest.file_id)).download_as_bytearray())
    assert not has_exif(photo_bytes)

    doc_update = Update.de_json(
        rider.document(original, file_name="IMG_0001.jpg", mime_type="image/jpeg"), bot
    )
    document = doc_update.message.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "IMG_0001.jpg",
        "image/jpeg",
        len(original),
    )
    kept = bytes(await (await bot.get_file(document.file_id)).download_as_bytearray())
    assert kept == original and has_exif(kept)

    huge = Update.de_json(
        rider.document(
            b"", file_name="video.mov", mime_type="video/quicktime", file_size=25 << 20
        ),
        bot,
    )
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(huge.message.document.file_id)


async def test_media_group_of_three(fake: FakeTelegram, bot: Bot):
    group = fake.new_group("黄浦区 dispatch", forum=True)
    topic = fake.new_topic(group["id"], "Reports")
    small = jpeg_with_gps((400, 300))
    first = await bot.send_photo(group["id"], small, message_thread_id=topic)
    album = await bot.send_media_group(
        group["id"],
        [
            InputMediaPhoto(small, caption="<b>1</b>", parse_mode="HTML"),
            InputMediaPhoto(first.photo[-1].file_id, caption="2"),
            InputMediaPhoto(jpeg_with_gps((200, 100))),
        ],
        message_thread_id=topic,
    )
    assert len(album) == 3
    assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert [m.caption for m in album] == ["1", "2", None]
    assert [(p.width, p.height) for p in album[0].photo] == [(90, 68), (320, 240), (400, 300)]
    assert album[1].photo[-1].file_id == first.photo[-1].file_id
    assert all(m.message_thread_id == topic and m.is_topic_message for m in album)
    assert len(fake.messages(group["id"], topic)) == 5  # topic opener, photo, album
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(group["id"], "x", message_thread_id=999)


async def test_lengths_are_counted_in_utf16_units_of_the_shown_text(fake: FakeTelegram, bot: Bot):
    """An emoji outside the BMP counts two; tags count nothing, an HTML entity one."""
    rider = fake.person("Gao")
    rider.start()
    await bot.send_message(rider.id, "😀" * 2048)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(rider.id, "😀" * 2048 + "a")
    await bot.send_message(rider.id, "<b>" + "&lt;" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(rider.id, "  " + "字" * 4096 + "\n\n")  # trimmed before counting
    photo = jpeg_with_gps((40, 30))
    sent = await bot.send_photo(rider.id, photo, caption="🧯" * 512)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(rider.id, photo, caption="🧯" * 512 + "a")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.edit_message_caption(rider.id, sent.message_id, caption="🧯" * 513)
    text = await bot.send_message(rider.id, "x")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.edit_message_text("👍🏽" * 1025, rider.id, text.message_id)  # 4 units each
    calls = fake.calls_to("sendMessage") + fake.calls_to("sendPhoto")
    assert sorted({c.response["description"] for c in calls if c.status == 400}) == [
        "Bad Request: message caption is too long",
        "Bad Request: message is too long",
    ]


async def test_long_caption_and_reply_keyboard_location(fake: FakeTelegram, bot: Bot):
    rider = fake.person("Zhou")
    rider.start()
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(rider.id, jpeg_with_gps((50, 50)), caption="x" * 1025)
    await bot.send_message(
        rider.id,
        "Where is it?",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📍 Send location", request_location=True)], ["Cancel"]]
        ),
    )
    update = Update.de_json(
        rider.tap_keyboard("📍 Send location", latitude=31.23, longitude=121.47), bot
    )
    assert (update.message.location.latitude, update.message.location.longitude) == (31.23, 121.47)
    assert Update.de_json(rider.tap_keyboard("Cancel"), bot).message.text == "Cancel"
    reply = Update.de_json(rider.reply(update.message.to_dict(), text="here"), bot)
    assert reply.message.reply_to_message.message_id == update.message.message_id


async def test_groups_topics_members_commands(fake: FakeTelegram, bot: Bot):
    dispatcher = fake.person("陈调度", username="chen_dispatch")
    rider = fake.person("小刘")
    group = fake.new_group("徐汇 dispatch", forum=True, members=[(dispatcher, "administrator")])
    assert group["id"] < -1_000_000_000_000 and group["is_forum"]

    topic = await bot.create_forum_topic(group["id"], "Potholes")
    opener = fake.message(group["id"], topic.message_thread_id)
    assert opener["forum_topic_created"]["name"] == "Potholes"
    cmd = Update.de_json(
        dispatcher.command(
            "/report@suishou_test_bot 3", chat=group, thread_id=topic.message_thread_id
        ),
        bot,
    )
    assert cmd.message.entities[0].type == "bot_command" and cmd.message.is_topic_message
    # Telegram's forum quirk: a plain message in a topic "replies" to the topic opener.
    assert cmd.message.reply_to_message.message_id == topic.message_thread_id
    answer = await cmd.message.reply_text("收到")
    assert answer.message_thread_id == topic.message_thread_id
    assert answer.reply_to_message.message_id == cmd.message.message_id

    assert (await bot.get_chat_member(group["id"], dispatcher.id)).status == "administrator"
    assert (await bot.get_chat_member(group["id"], rider.id)).status == "left"
    admins = await bot.get_chat_administrators(group["id"])
    assert {a.status for a in admins} == {"creator", "administrator"}
    info = await bot.get_chat(group["id"])
    assert info.title == "徐汇 dispatch" and info.is_forum
    assert await bot.send_chat_action(
        group["id"], "typing", message_thread_id=topic.message_thread_id
    )

    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.forward_message(dispatcher.id, group["id"], cmd.message.message_id)
    dispatcher.start()
    forwarded = await bot.forward_message(dispatcher.id, group["id"], cmd.message.message_id)
    assert forwarded.forward_origin.sender_user.id == dispatcher.id
    copied = await bot.copy_message(dispatcher.id, group["id"], answer.message_id)
    assert fake.message(dispatcher.id, copied.message_id)["text"] == "收到"
    assert await bot.delete_message(group["id"], answer.message_id)
    assert fake.message(group["id"], answer.message_id).deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(group["id"], answer.message_id)

    # Privacy mode: a non-admin bot sees commands and replies, not chatter.
    fake.set_bot_status(group["id"], "member")
    assert fake.bot_receives(dispatcher.command("/report", chat=group))
    assert not fake.bot_receives(dispatcher.text("just chatting", chat=group))

    await bot.set_my_commands([("report", "上报隐患")], language_code="zh")
    assert fake.commands(language_code="zh") == [{"command": "report", "description": "上报隐患"}]
    assert fake.commands() == []
    with pytest.raises(BadRequest, match=r"(?i)invalid language code"):
        await bot.set_my_commands([("report", "x")], language_code="zh-hans")
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Report", "x")])


# --------------------------------------------------------------------- updates and polling


async def test_get_updates_offsets_and_long_poll(fake: FakeTelegram, bot: Bot):
    rider = fake.person("Wu")
    first = rider.start()
    fake.push_update(first)
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"]]
    assert updates[0].message.text == "/start"

    async def push_later() -> None:
        await asyncio.sleep(0.05)
        fake.push_update(rider.text("pothole"))

    pusher = asyncio.create_task(push_later())
    updates = await bot.get_updates(offset=first["update_id"] + 1, timeout=5)
    await pusher
    assert [u.message.text for u in updates] == ["pothole"]
    assert fake.pending_updates()[0]["message"]["text"] == "pothole"


async def test_second_poller_conflicts_the_first(fake: FakeTelegram, bot: Bot):
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting


async def test_application_polling_receives_and_replies(fake: FakeTelegram):
    rider = fake.person("Zheng")
    got = asyncio.Event()

    async def echo(update: Update, context) -> None:
        await update.message.reply_text(f"got: {update.message.text}")
        got.set()

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await app.start()
        fake.push_update(rider.text("hello"))
        await asyncio.wait_for(got.wait(), 3)
        await app.updater.stop()
        await app.stop()
    assert rider.last_bot_message()["text"] == "got: hello"
    assert fake.calls_to("deleteWebhook")
    assert fake.pending_updates() == []  # the shutdown getUpdates confirmed the offset


# --------------------------------------------------------------------- the parser itself


def test_html_parser_matches_tdlib_details():
    assert parse_html("<pre><code class='language-py'>x</code></pre>")[1] == [
        {"offset": 0, "length": 1, "type": "pre", "language": "py"}
    ]
    assert parse_html("&#x1F600;<b>é</b>")[1] == [{"offset": 2, "length": 1, "type": "bold"}]
    assert parse_html("Tom & Jerry", strict=False) == ("Tom & Jerry", [])
    with pytest.raises(HtmlParseError, match="Unescaped"):
        parse_html("Tom & Jerry")
    with pytest.raises(HtmlParseError, match='expected "</b>", found "</i>"'):
        parse_html("<b>x</i>")


# --------------------------------------------------------------------- over real HTTP


async def test_over_http_with_httpx_request(fake: FakeTelegram):
    rider = fake.person("Feng")
    rider.start()
    with FakeTelegramServer(fake) as server:
        async with Bot(
            fake.token, base_url=server.base_url, base_file_url=server.base_file_url
        ) as bot:
            me = await bot.get_me()
            assert me.username == "suishou_test_bot"
            original = jpeg_with_gps((640, 480))
            sent = await bot.send_photo(
                rider.id, original, caption="上报", reply_markup=keyboard("OK")
            )
            assert sent.caption == "上报" and sent.reply_markup.inline_keyboard[0][0].text == "OK"
            data = await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()
            assert len(data) == sent.photo[-1].file_size and not has_exif(bytes(data))
            document = await bot.send_document(rider.id, original, filename="原图.jpg")
            assert document.document.file_name == "原图.jpg"
            raw = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
            assert bytes(raw) == original

            async def push_later() -> None:
                await asyncio.sleep(0.05)
                fake.push_update(rider.text("via http"))

            pusher = asyncio.create_task(push_later())
            updates = await bot.get_updates(timeout=5)
            await pusher
            assert [u.message.text for u in updates] == ["via http"]
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(-100777, "x")
