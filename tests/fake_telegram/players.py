"""People who act: each action is stored in the chat like Telegram would and returns the Update.

The test decides how the update reaches the bot: ``app.process_update(Update.de_json(u, bot))``
in-process, or ``fake.push_update(u)`` for polling. Misuse of the world (posting where the user
could not) raises AssertionError, because it is a bug in the test, not a Bot API error.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .files import MediaError
from .html import finish_text
from .params import ApiError

if TYPE_CHECKING:
    from .api import FakeTelegram, TgMessage

ChatRef = dict[str, Any] | int | None


class Person:
    """A Telegram user with a private chat to the bot; acts in it or in groups."""

    def __init__(
        self,
        fake: FakeTelegram,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user: dict[str, Any] | None = None,
    ) -> None:
        self.fake = fake
        self.user: dict[str, Any] = user or fake.new_user(
            first_name, last_name=last_name, username=username, language_code=language_code
        )

    @property
    def id(self) -> int:
        """The user id, which is also the private chat id."""
        return self.user["id"]

    @property
    def chat(self) -> dict[str, Any]:
        """The private chat with the bot, as Chat JSON."""
        return self.fake.chat(self.id)

    def __repr__(self) -> str:
        return f"Person({self.user['first_name']!r}, id={self.id})"

    # ----------------------------------------------------------------- messages

    def text(
        self,
        text: str,
        *,
        chat: ChatRef = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send a text message; Telegram trims it and detects commands, mentions and links."""
        clean, entities = finish_text(text, [])
        if not clean:
            raise AssertionError("Telegram clients cannot send an empty message")
        content: dict[str, Any] = {"text": clean}
        if entities:
            content["entities"] = entities
        return self._post(content, chat=chat, thread_id=thread_id, reply_to=reply_to)

    def command(
        self, command: str, *, chat: ChatRef = None, thread_id: int | None = None
    ) -> dict[str, Any]:
        """Send "/cmd args" (or "/cmd@bot args" in groups) with its bot_command entity."""
        update = self.text(command, chat=chat, thread_id=thread_id)
        entities = update["message"].get("entities", [])
        if not any(e["type"] == "bot_command" and e["offset"] == 0 for e in entities):
            raise AssertionError(f"Telegram would not see a bot command in {command!r}")
        return update

    def start(self, payload: str | None = None) -> dict[str, Any]:
        """/start (optionally with a deep-link payload) in the private chat."""
        return self.command("/start" if payload is None else f"/start {payload}")

    def photo(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        forward_from: dict[str, Any] | None = None,
        chat: ChatRef = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send a compressed photo: re-encoded to JPEG sizes without EXIF, like Telegram."""
        with self.fake._lock:
            try:
                sizes = self.fake.files.add_photo(data)
            except MediaError as exc:
                raise ValueError(f"a Telegram client could not send this photo: {exc}") from None
        content: dict[str, Any] = {"photo": sizes}
        if media_group_id:
            content = {"media_group_id": media_group_id, **content}
        content.update(_caption(caption))
        if forward_from is not None:
            origin = {"type": "user", "sender_user": forward_from, "date": self.fake._now() - 3600}
            content = {"forward_origin": origin, **content}
        return self._post(content, chat=chat, thread_id=thread_id, reply_to=reply_to)

    def document(
        self,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        file_size: int | None = None,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Send a file uncompressed: stored byte-for-byte, EXIF kept.

        ``file_size`` claims a size without allocating it (e.g. 25 MB to hit getFile's limit).
        """
        with self.fake._lock:
            document = self.fake.files.add_document(
                data, file_name=file_name, mime_type=mime_type, file_size=file_size
            )
        content = {"document": document, **_caption(caption)}
        return self._post(content, chat=chat, thread_id=thread_id)

    def location(
        self,
        latitude: float,
        longitude: float,
        *,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Share a location (live when live_period is given)."""
        location = _location(latitude, longitude, horizontal_accuracy)
        if live_period is not None:
            location["live_period"] = live_period
        return self._post({"location": location}, chat=chat, thread_id=thread_id)

    def venue(
        self,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        *,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Share a venue; Telegram sends both ``venue`` and ``location``."""
        location = _location(latitude, longitude, None)
        venue = {"location": location, "title": title, "address": address}
        return self._post(
            {"venue": venue, "location": copy.deepcopy(location)}, chat=chat, thread_id=thread_id
        )

    def contact(
        self,
        phone_number: str,
        *,
        own: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
        chat: ChatRef = None,
    ) -> dict[str, Any]:
        """Share a contact; own=True is one's card with user_id, as request_contact sends."""
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact["first_name"] = self.user["first_name"]
            if self.user.get("last_name"):
                contact["last_name"] = self.user["last_name"]
            contact["user_id"] = self.id
        else:
            contact["first_name"] = first_name or "Contact"
            if last_name:
                contact["last_name"] = last_name
        return self._post({"contact": contact}, chat=chat)

    def reply(
        self,
        to: Any,
        *,
        text: str | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Reply to a message (Telegram includes the full ``reply_to_message``)."""
        to = _plain(to)
        chat = to["chat"]["id"]
        if photo is not None:
            return self.photo(photo, caption=caption, chat=chat, reply_to=to)
        if text is None:
            raise AssertionError("reply() needs text or photo")
        return self.text(text, chat=chat, reply_to=to)

    def leave(self, chat: ChatRef) -> dict[str, Any]:
        """Leave a group (Telegram posts "… left the group"); returns that Update."""
        return self.fake.leave(_chat_id(chat, self.id), self.user)

    # ----------------------------------------------------------------- buttons

    def press(self, message: Any, button_text: str) -> dict[str, Any]:
        """Press an inline button on the message as it is now (cards get edited).

        ``message`` may be Message JSON, a TgMessage or a PTB Message; only its ids are used.
        """
        message = _plain(message)
        current = self.fake.message(message["chat"]["id"], message["message_id"])
        if current.deleted:
            raise AssertionError(f"message #{current['message_id']} was deleted")
        for row in current.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] != button_text:
                    continue
                if "callback_data" not in button:
                    kinds = [k for k in button if k != "text"]
                    raise AssertionError(
                        f"button {button_text!r} is a {kinds} button: no callback"
                    )
                return self._callback(current, button["callback_data"])
        raise AssertionError(
            f"no button {button_text!r} on message #{current['message_id']}; "
            f"available: {current.buttons}"
        )

    def press_data(self, message: Any, data: str) -> dict[str, Any]:
        """A callback query with arbitrary (forged or stale) data for a message."""
        message = _plain(message)
        try:
            current: dict[str, Any] = self.fake.message(
                message["chat"]["id"], message["message_id"]
            )
        except KeyError:
            current = message
        return self._callback(current, data)

    def tap_keyboard(
        self,
        text: str,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        horizontal_accuracy: float | None = None,
        phone_number: str = "+8613800138000",
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Tap a button of the reply keyboard the bot currently shows in the chat."""
        chat_id = _chat_id(chat, self.id)
        with self.fake._lock:
            keyboard = copy.deepcopy(self.fake._chats[chat_id].reply_keyboard)
        if keyboard is None:
            raise AssertionError(f"no reply keyboard is shown in chat {chat_id}")
        buttons = [b for row in keyboard["keyboard"] for b in row]
        button = next((b for b in buttons if b["text"] == text), None)
        if button is None:
            raise AssertionError(
                f"no keyboard button {text!r}; available: {[b['text'] for b in buttons]}"
            )
        if button.get("request_location"):
            if latitude is None or longitude is None:
                raise AssertionError(f"{text!r} requests a location: pass latitude and longitude")
            return self.location(
                latitude,
                longitude,
                horizontal_accuracy=horizontal_accuracy,
                chat=chat,
                thread_id=thread_id,
            )
        if button.get("request_contact"):
            return self.contact(phone_number, own=True, chat=chat)
        return self.text(text, chat=chat, thread_id=thread_id)

    def last_bot_message(self) -> TgMessage | None:
        """The bot's latest message in this person's private chat, or None."""
        return self.fake.last_bot_message(self.id)

    # ----------------------------------------------------------------- internals

    def _post(
        self,
        content: dict[str, Any],
        *,
        chat: ChatRef,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        fake = self.fake
        reply_to = None if reply_to is None else _plain(reply_to)
        chat_id = _chat_id(chat, self.id)
        with fake._lock:
            target_chat = fake._chats.get(chat_id)
            if target_chat is None:
                raise AssertionError(f"chat {chat_id} does not exist")
            if target_chat.type == "private":
                if chat_id != self.id:
                    raise AssertionError("a person can only write in their own chat with the bot")
                target_chat.started, target_chat.blocked = True, False
            else:
                status = target_chat.members.setdefault(self.id, "member")
                if status in ("left", "kicked"):
                    raise AssertionError(f"{self} is {status} in chat {chat_id}")
                rights = target_chat.restrictions.get(self.id, {})
                if status == "restricted" and not (
                    rights.get("is_member") and rights.get("can_send_messages")
                ):
                    raise AssertionError(f"{self} may not post in chat {chat_id}")
            target = None
            if reply_to is not None:
                target = target_chat.messages.get(reply_to["message_id"])
                if target is None or target.deleted:
                    raise AssertionError(
                        f"cannot reply to missing message #{reply_to['message_id']}"
                    )
            try:
                thread, topic = fake._thread_for(target_chat, thread_id, target)
            except ApiError as exc:
                raise AssertionError(f"cannot post there: {exc.description}") from None
            msg = fake._store(
                target_chat,
                self.user,
                content,
                thread_id=thread,
                reply_to=target,
                topic_message=topic,
            )
            return {"update_id": fake.next_update_id(), "message": copy.deepcopy(msg.json)}

    def _callback(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        fake = self.fake
        if not fake.can_see(message["chat"]["id"], self.id):
            raise AssertionError(f"{self} cannot see chat {message['chat']['id']} to press in it")
        with fake._lock:
            query_id = str(fake._next_query_id)
            fake._next_query_id += 1
            chat_id = message["chat"]["id"]
            fake._callback_queries[query_id] = {
                "answered": False,
                "user_id": self.id,
                "data": data,
                "chat_id": chat_id,
                "message_id": message["message_id"],
            }
            instance = str(-((chat_id * 2654435761 + fake.bot_id) % (1 << 62)))
            shown = copy.deepcopy(dict(message))
            # Bots only ever see inline keyboards on messages; reply keyboards stay client-side.
            if "inline_keyboard" not in shown.get("reply_markup", {"inline_keyboard": []}):
                del shown["reply_markup"]
            query = {
                "id": query_id,
                "from": copy.deepcopy(self.user),
                "message": shown,
                "chat_instance": instance,
                "data": data,
            }
            return {"update_id": fake.next_update_id(), "callback_query": query}


def _plain(message: Any) -> dict[str, Any]:
    """Accept Message JSON, a TgMessage or a PTB Message alike."""
    return message.to_dict() if hasattr(message, "to_dict") else message


def _chat_id(chat: ChatRef, default: int) -> int:
    if chat is None:
        return default
    return chat["id"] if isinstance(chat, dict) else int(chat)


def _caption(caption: str | None) -> dict[str, Any]:
    if caption is None:
        return {}
    text, entities = finish_text(caption, [])
    result: dict[str, Any] = {"caption": text} if text else {}
    if entities:
        result["caption_entities"] = entities
    return result


def _location(latitude: float, longitude: float, accuracy: float | None) -> dict[str, Any]:
    location: dict[str, Any] = {"latitude": float(latitude), "longitude": float(longitude)}
    if accuracy is not None:
        location["horizontal_accuracy"] = float(accuracy)
    return location
