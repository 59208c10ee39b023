"""Bot API methods of the fake, as a mixin of FakeTelegram (api.py holds the state).

Each ``api_<methodName>(params, files)`` validates like the real server and returns the
``result`` value or raises ApiError. Validation order follows the server where it matters:
parameters and formatting first, then the chat, then thread and reply target.
"""

from __future__ import annotations

import copy
import re
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from .files import DOWNLOAD_LIMIT
from .helpers import ADMIN, Files, SendHelpers, location_from
from .html import utf16_len
from .members import Memberships
from .params import ApiError, Params, bad, parse_markup, words
from .state import DEFAULT_UPDATE_TYPES, _Poll

if TYPE_CHECKING:
    from .api import FakeTelegram

CHAT_ACTIONS = words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
SCOPE_TYPES = words(
    "default all_private_chats all_group_chats all_chat_administrators chat chat_administrators "
    "chat_member"
)
CONTENT_KEYS = ("text", "entities", "photo", "document", "caption", "caption_entities")
CONTENT_KEYS += ("location", "venue", "contact", "has_media_spoiler", "show_caption_above_media")


class BotApiMethods(SendHelpers, Memberships):
    """The implemented Bot API methods; everything else answers 404 and is recorded."""

    @staticmethod
    @cache
    def method_names() -> dict[str, str]:
        """Lower-case name -> canonical name, for Telegram's case-insensitive dispatch."""
        return {n[4:].lower(): n[4:] for n in dir(BotApiMethods) if n.startswith("api_")}

    # ----------------------------------------------------------------- bot & updates

    def api_getMe(self: FakeTelegram, p: Params, files: Files) -> Any:
        return copy.deepcopy(self.bot_user)

    def api_getUpdates(self: FakeTelegram, p: Params, files: Files) -> Any:
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = max(p.float("timeout", 0.0) or 0.0, 0.0)
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        for poll in self._polls:  # a newer getUpdates ends the older one, as on Telegram
            poll.state = "conflict"
        self._cond.notify_all()
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        poll = _Poll()
        self._polls.append(poll)
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._updates = [
                    u for u in self._updates if _update_type(u) in self._allowed_updates
                ]
                remaining = deadline - time.monotonic()
                if self._updates or poll.state != "waiting" or remaining <= 0:
                    break
                self._cond.wait(remaining)
        finally:
            self._polls.remove(poll)
        if poll.state == "conflict":
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        if poll.state == "aborted":
            return []
        return copy.deepcopy(self._updates[:limit])

    def api_deleteWebhook(self: FakeTelegram, p: Params, files: Files) -> Any:
        if p.bool("drop_pending_updates"):
            self._updates.clear()
        return True

    def api_getWebhookInfo(self: FakeTelegram, p: Params, files: Files) -> Any:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def api_setMyCommands(self: FakeTelegram, p: Params, files: Files) -> Any:
        commands = p.json("commands")
        if not isinstance(commands, list):
            raise bad('parameter "commands" is required')
        if len(commands) > 100:
            raise bad("too many commands specified")
        clean = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad("can't parse BotCommand")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"/?[a-z0-9_]{1,32}", name):
                raise bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad("BOT_COMMAND_INVALID")
            clean.append({"command": name.lstrip("/"), "description": description})
        key = self._commands_key(p)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    def api_getMyCommands(self: FakeTelegram, p: Params, files: Files) -> Any:
        return copy.deepcopy(self._commands.get(self._commands_key(p), []))

    def api_deleteMyCommands(self: FakeTelegram, p: Params, files: Files) -> Any:
        self._commands.pop(self._commands_key(p), None)
        return True

    def _commands_key(self: FakeTelegram, p: Params) -> tuple[str, str]:
        language = p.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad("invalid language code specified")
        scope = p.json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad("can't parse BotCommandScope")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat = self._find_chat(scope.get("chat_id"))
            if scope["type"] == "chat_member" and scope.get("user_id") not in chat.members:
                raise bad("user not found")
        return self._scope_key(scope, language)

    # ----------------------------------------------------------------- sending

    def api_sendMessage(self: FakeTelegram, p: Params, files: Files) -> Any:
        text, entities, html = self._format(p.str("text"), p.str("parse_mode"), p.json("entities"))
        if not text:
            raise bad("message text is empty")
        if utf16_len(text) > 4096:
            raise bad("message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        msg = self._send(p, content)
        msg.html = html
        return copy.deepcopy(msg.json)

    def api_sendPhoto(self: FakeTelegram, p: Params, files: Files) -> Any:
        content = self._caption_content(p.str("caption"), p.str("parse_mode"), p)
        html = content.pop("_html")
        content = {"photo": self._photo_input(p.raw.get("photo"), files, "photo"), **content}
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
        msg = self._send(p, content)
        msg.caption_html = html
        return copy.deepcopy(msg.json)

    def api_sendDocument(self: FakeTelegram, p: Params, files: Files) -> Any:
        content = self._caption_content(p.str("caption"), p.str("parse_mode"), p)
        html = content.pop("_html")
        document = self._document_input(p.raw.get("document"), files, "document")
        msg = self._send(p, {"document": document, **content})
        msg.caption_html = html
        return copy.deepcopy(msg.json)

    def api_sendMediaGroup(self: FakeTelegram, p: Params, files: Files) -> Any:
        media = p.json("media")
        if media is None:
            raise bad('parameter "media" is required')
        if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
            raise bad("can't parse media JSON object")
        if not media:
            raise bad("there are no messages to send")
        if len(media) > 10:
            raise bad("too many messages to send as an album")
        kinds = [m.get("type") for m in media]
        for kind in kinds:
            if kind in ("video", "audio", "animation"):
                self.unsupported.append(f"sendMediaGroup:{kind}")
                raise bad(f'can\'t parse InputMedia: type "{kind}" is not supported by the fake')
            if kind not in ("photo", "document"):
                raise bad(f'can\'t parse InputMedia: type "{kind}" is unsupported')
        if "document" in kinds and len(set(kinds)) > 1:
            raise bad("document can't be mixed with other media types")
        contents = []
        for item in media:
            content = self._caption_content(
                item.get("caption"), item.get("parse_mode"), Params(item)
            )
            html = content.pop("_html")
            if item["type"] == "photo":
                content = {"photo": self._photo_input(item.get("media"), files, None), **content}
            else:
                doc = self._document_input(item.get("media"), files, None)
                content = {"document": doc, **content}
            contents.append((content, html))
        chat, reply_to, thread_id, topic = self._prepare(p)
        group_id = None
        if len(contents) > 1:
            group_id = str(self._next_media_group)
            self._next_media_group += 1
        result = []
        for content, html in contents:
            grouped = {"media_group_id": group_id, **content} if group_id else content
            msg = self._emit(chat, grouped, reply_to, thread_id, topic, p)
            msg.caption_html = html
            result.append(copy.deepcopy(msg.json))
        return result

    def api_sendLocation(self: FakeTelegram, p: Params, files: Files) -> Any:
        location = location_from(p)
        return copy.deepcopy(self._send(p, {"location": location}).json)

    def api_sendVenue(self: FakeTelegram, p: Params, files: Files) -> Any:
        location = location_from(p)
        title, address = p.str("title"), p.str("address")
        if not title or not address:
            raise bad("venue title and address must be non-empty")
        venue = {"location": location, "title": title, "address": address}
        return copy.deepcopy(self._send(p, {"venue": venue, "location": location}).json)

    def api_sendChatAction(self: FakeTelegram, p: Params, files: Files) -> Any:
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        chat = self._sendable_chat(p)
        self._thread_for(chat, p.int("message_thread_id"), None)
        return True

    def api_copyMessage(self: FakeTelegram, p: Params, files: Files) -> Any:
        source = self._source_message(p, "copy")
        if "forum_topic_created" in source.json:
            raise bad("message can't be copied")
        content = {k: copy.deepcopy(source.json[k]) for k in CONTENT_KEYS if k in source.json}
        if p.has("caption") and {"photo", "document"} & content.keys():
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption_content(p.str("caption"), p.str("parse_mode"), p))
            content.pop("_html")
        msg = self._send(p, content)
        return {"message_id": msg.json["message_id"]}

    def api_forwardMessage(self: FakeTelegram, p: Params, files: Files) -> Any:
        source = self._source_message(p, "forward")
        data = source.json
        origin = data.get("forward_origin") or {
            "type": "user",
            "sender_user": copy.deepcopy(data["from"]),
            "date": data["date"],
        }
        content = {"forward_origin": copy.deepcopy(origin)}
        content.update({k: copy.deepcopy(data[k]) for k in CONTENT_KEYS if k in data})
        p.raw.pop("reply_markup", None)  # forwardMessage takes no keyboard
        return copy.deepcopy(self._send(p, content).json)

    # ----------------------------------------------------------------- editing

    def api_editMessageText(self: FakeTelegram, p: Params, files: Files) -> Any:
        msg = self._editable(p)
        if "text" not in msg.json:
            raise bad("there is no text in the message to edit")
        markup = parse_markup(p.raw.get("reply_markup"), inline_only=True)
        text, entities, html = self._format(p.str("text"), p.str("parse_mode"), p.json("entities"))
        if not text:
            raise bad("message text is empty")
        if utf16_len(text) > 4096:
            raise bad("message is too long")
        self._apply_edit(msg, {"text": text, "entities": entities}, markup)
        msg.html = html
        return copy.deepcopy(msg.json)

    def api_editMessageCaption(self: FakeTelegram, p: Params, files: Files) -> Any:
        msg = self._editable(p)
        if not ({"photo", "document"} & msg.json.keys()):
            raise bad("there is no caption in the message to edit")
        markup = parse_markup(p.raw.get("reply_markup"), inline_only=True)
        content = self._caption_content(p.str("caption"), p.str("parse_mode"), p)
        html = content.pop("_html")
        new = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        self._apply_edit(msg, new, markup)
        msg.caption_html = html
        return copy.deepcopy(msg.json)

    def api_editMessageReplyMarkup(self: FakeTelegram, p: Params, files: Files) -> Any:
        msg = self._editable(p)
        markup = parse_markup(p.raw.get("reply_markup"), inline_only=True)
        self._apply_edit(msg, {}, markup)
        return copy.deepcopy(msg.json)

    def api_deleteMessage(self: FakeTelegram, p: Params, files: Files) -> Any:
        chat = self._find_chat(p.chat_id())
        msg = chat.messages.get(p.int("message_id") or 0)
        if msg is None or msg.deleted:
            raise bad("message to delete not found")
        own = msg.json["from"]["id"] == self.bot_id
        if chat.type != "private" and not own and chat.bot_status not in ADMIN:
            raise bad("message can't be deleted")
        msg.deleted = True
        return True

    # ----------------------------------------------------------------- callbacks & files

    def api_answerCallbackQuery(self: FakeTelegram, p: Params, files: Files) -> Any:
        query_id = p.str("callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["answer"] = {
            "callback_query_id": query_id,
            "user_id": query["user_id"],
            "data": query["data"],
            "text": text,
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time"),
        }
        self.callback_answers.append(query["answer"])
        return True

    def api_getFile(self: FakeTelegram, p: Params, files: Files) -> Any:
        stored = self.files.by_id.get(p.str("file_id") or "")
        if stored is None:
            raise bad("wrong file_id or the file is temporarily unavailable")
        if stored.size > DOWNLOAD_LIMIT:
            raise bad("file is too big")
        return stored.file_json()

    # ----------------------------------------------------------------- chats

    def api_getChat(self: FakeTelegram, p: Params, files: Files) -> Any:
        chat = self._find_chat(p.chat_id())
        info = copy.deepcopy(chat.json)
        if "username" in info:
            info["active_usernames"] = [info["username"]]
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": chat.type == "private",
                "limited_gifts": chat.type == "private",
                "unique_gifts": chat.type == "private",
                "premium_subscription": chat.type == "private",
                "gifts_from_channels": chat.type == "private",
            },
        )
        return info

    def api_createForumTopic(self: FakeTelegram, p: Params, files: Files) -> Any:
        chat = self._find_chat(p.chat_id())
        name = p.str("name") or ""
        if not name.strip():
            raise bad('parameter "name" is required')
        if not chat.is_forum:
            raise bad("the chat is not a forum")
        if chat.bot_status not in ADMIN:
            raise bad("not enough rights to create a topic")
        color = p.int("icon_color", 7322096) or 7322096
        thread_id = self._create_topic(chat, self._bot_from(), name[:128], color)
        topic = {"message_thread_id": thread_id, "name": name[:128], "icon_color": color}
        if p.has("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = p.str("icon_custom_emoji_id")
        return topic


def _update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")
