"""Shared steps of the Bot API methods: finding chats, formatting, files, edits.

Split from methods.py to keep files readable; this is a mixin of FakeTelegram too.
"""

from __future__ import annotations

import copy
import mimetypes
import re
from typing import TYPE_CHECKING, Any

from .faults import migrated_error
from .files import MediaError
from .html import HtmlParseError, finish_text, parse_html, utf16_len
from .params import ApiError, Markup, Params, bad, parse_markup

if TYPE_CHECKING:
    from .api import FakeTelegram
    from .state import _Chat, _Msg

Files = dict[str, tuple[str, bytes, str]]
UPLOAD_LIMIT = 50 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
ADMIN = ("creator", "administrator")


class SendHelpers:
    """Validation and storage steps every sending or editing method shares."""

    def _find_chat(self: FakeTelegram, chat_id: Any) -> _Chat:
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                name = chat.json.get("username", "")
                if chat.type != "private" and name.lower() == chat_id[1:].lower():
                    return chat
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad("chat not found")
        upgraded = migrated_error(chat)
        if upgraded is not None:
            raise upgraded
        return chat

    def _sendable_chat(self: FakeTelegram, p: Params) -> _Chat:
        if p.has("business_connection_id"):
            self.unsupported.append("business_connection_id")
            raise bad("business connection not found")
        chat = self._find_chat(p.chat_id())
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        elif chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat

    def _reply_target(self: FakeTelegram, chat: _Chat, p: Params) -> _Msg | None:
        params = p.json("reply_parameters")
        if params is not None:
            if not isinstance(params, dict) or "message_id" not in params:
                raise bad("can't parse reply parameters JSON object")
            message_id = Params(params).int("message_id")
            allow = bool(params.get("allow_sending_without_reply"))
            if params.get("chat_id") not in (None, chat.id, chat.json.get("username")):
                self.unsupported.append("reply_parameters.chat_id")
                raise bad("message to be replied not found")
        elif p.has("reply_to_message_id"):
            message_id = p.int("reply_to_message_id")
            allow = p.bool("allow_sending_without_reply")
        else:
            return None
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if allow:
                return None
            raise bad("message to be replied not found")
        return target

    def _prepare(self: FakeTelegram, p: Params) -> tuple[_Chat, _Msg | None, int | None, bool]:
        chat = self._sendable_chat(p)
        reply_to = self._reply_target(chat, p)
        thread_id, topic = self._thread_for(chat, p.int("message_thread_id"), reply_to)
        return chat, reply_to, thread_id, topic

    def _send(self: FakeTelegram, p: Params, content: dict[str, Any]) -> _Msg:
        markup = parse_markup(p.raw.get("reply_markup"))
        chat, reply_to, thread_id, topic = self._prepare(p)
        return self._emit(chat, content, reply_to, thread_id, topic, p, markup)

    def _emit(
        self: FakeTelegram,
        chat: _Chat,
        content: dict[str, Any],
        reply_to: _Msg | None,
        thread_id: int | None,
        topic: bool,
        p: Params,
        markup: Markup | None = None,
    ) -> _Msg:
        content = dict(content)
        if p.bool("protect_content"):
            content["has_protected_content"] = True
        if markup is not None and markup.inline and markup.inline["inline_keyboard"]:
            content["reply_markup"] = markup.inline
        msg = self._store(
            chat,
            self._bot_from(),
            content,
            thread_id=thread_id,
            reply_to=reply_to,
            topic_message=topic,
        )
        if markup is not None and markup.keyboard is not None:
            chat.reply_keyboard = msg.reply_keyboard = markup.keyboard
        elif markup is not None and markup.remove_keyboard:
            chat.reply_keyboard = None
            msg.reply_keyboard = markup.raw
        elif markup is not None and markup.force_reply is not None:
            msg.reply_keyboard = markup.raw
        return msg

    def _format(
        self: FakeTelegram, text: str | None, parse_mode: str | None, entities: Any
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        """Apply parse_mode (or explicit entities), then Telegram's trimming and detection."""
        text = text or ""
        html = None
        if parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                html = text
                try:
                    text, entities = parse_html(text, strict=self.strict_html, users=self._users)
                except HtmlParseError as exc:
                    raise bad(f"can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                self.unsupported.append(f"parse_mode={parse_mode}")
                raise bad("can't parse entities: FakeTelegram implements only parse_mode HTML")
            else:
                raise bad("unsupported parse_mode")
        elif entities is None:
            entities = []
        elif not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise bad("can't parse entities JSON object")
        text, entities = finish_text(text, entities)
        return text, entities, html

    def _caption_content(
        self: FakeTelegram, caption: str | None, parse_mode: str | None, p: Params
    ) -> dict[str, Any]:
        text, entities, html = self._format(caption, parse_mode, p.json("caption_entities"))
        if utf16_len(text) > 1024:
            raise bad("message caption is too long")
        content: dict[str, Any] = {"_html": html}
        if text:
            content["caption"] = text
        if entities:
            content["caption_entities"] = entities
        if p.bool("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content

    def _upload(self: FakeTelegram, value: Any, files: Files, name: str | None) -> Any:
        """An uploaded (filename, bytes, mime), or the string value (file_id / URL)."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad(
                    "can't parse InputMedia: media not found"
                    if name is None
                    else f"there is no {name} in the request"
                )
        elif value is None and name is not None and name in files:
            upload = files[name]
        elif isinstance(value, str) and value:
            if re.match(r"^[a-z]+://", value, re.IGNORECASE) or "." in value:
                raise bad("failed to get HTTP URL content")  # the fake has no internet
            return value
        else:
            raise bad(
                "can't parse InputMedia: media not found"
                if name is None
                else f"there is no {name} in the request"
            )
        if len(upload[1]) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        return upload

    def _photo_input(self: FakeTelegram, value: Any, files: Files, name: str | None) -> Any:
        got = self._upload(value, files, name)
        if isinstance(got, str):
            stored = self.files.by_id.get(got)
            if stored is None:
                raise bad("wrong file identifier/HTTP URL specified")
            if not stored.photo_group:
                raise bad("can't use file of type Document as Photo")
            return copy.deepcopy(stored.photo_group)
        try:
            return self.files.add_photo(got[1])
        except MediaError as exc:
            raise ApiError(400, str(exc)) from None

    def _document_input(self: FakeTelegram, value: Any, files: Files, name: str | None) -> Any:
        got = self._upload(value, files, name)
        if isinstance(got, str):
            stored = self.files.by_id.get(got)
            if stored is None:
                raise bad("wrong file identifier/HTTP URL specified")
            if stored.document is None:
                raise bad("can't use file of type Photo as Document")
            return copy.deepcopy(stored.document)
        filename, data, mime = got
        guessed = mimetypes.guess_type(filename or "")[0]
        try:
            return self.files.add_document(
                data, file_name=filename, mime_type=guessed or mime or "application/octet-stream"
            )
        except MediaError as exc:
            raise ApiError(400, str(exc)) from None

    def _source_message(self: FakeTelegram, p: Params, verb: str) -> _Msg:
        source_chat = self._find_chat(p.chat_id("from_chat_id"))
        source = source_chat.messages.get(p.int("message_id") or 0)
        if source is None or source.deleted:
            raise bad(f"message to {verb} not found")
        if source.json.get("has_protected_content"):
            raise bad("message has protected content and can't be forwarded")
        return source

    def _editable(self: FakeTelegram, p: Params) -> _Msg:
        if p.has("inline_message_id"):
            self.unsupported.append("inline_message_id")
            raise bad("MESSAGE_ID_INVALID")
        if p.has("business_connection_id"):
            self.unsupported.append("business_connection_id")
            raise bad("business connection not found")
        chat = self._find_chat(p.chat_id())
        msg = chat.messages.get(p.int("message_id") or 0)
        if msg is None or msg.deleted:
            raise bad("message to edit not found")
        if msg.json["from"]["id"] != self.bot_id:
            raise bad("message can't be edited")
        return msg

    def _apply_edit(
        self: FakeTelegram, msg: _Msg, new: dict[str, Any], markup: Markup | None
    ) -> None:
        """Edit content and keyboard; omitted reply_markup removes the keyboard, as on Telegram."""
        data = msg.json
        new_markup = markup.inline if markup is not None else None
        if new_markup is not None and not new_markup["inline_keyboard"]:
            new_markup = None
        same = all(data.get(k) == (v or None) for k, v in new.items())
        if same and data.get("reply_markup") == new_markup:
            raise bad(NOT_MODIFIED)
        for key, value in new.items():
            if value:
                data[key] = value
            else:
                data.pop(key, None)
        if new_markup is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = new_markup
        data["edit_date"] = self._now()


def location_from(p: Params) -> dict[str, Any]:
    latitude, longitude = p.float("latitude"), p.float("longitude")
    if latitude is None or longitude is None:
        raise bad("wrong latitude or longitude specified")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad("wrong latitude or longitude specified")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    accuracy = p.float("horizontal_accuracy")
    if accuracy is not None:
        location["horizontal_accuracy"] = min(max(accuracy, 0.0), 1500.0)
    if p.has("live_period"):
        location["live_period"] = p.int("live_period")
    return location
