"""The stateful core of the fake Telegram Bot API.

One synchronous object guarded by an RLock, so PTB in-process (FakeRequest), the loopback HTTP
server thread and test code can all share it. Only getUpdates long-polling ever waits.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .faults import (
    BAD_GATEWAY_HTML,
    Faults,
    FrontendError,
    GroupPace,
    ResponseLost,
    _Chaos,
    _Fault,
)
from .files import DOWNLOAD_LIMIT, FileStore
from .html import utf16_slice
from .inspection import Inspection
from .methods import BotApiMethods
from .params import ApiError, Params, normalise
from .state import (
    DEFAULT_UPDATE_TYPES,
    Call,
    TgMessage,
    _Chat,
    _Failure,
    _Msg,
    _Poll,
)

if TYPE_CHECKING:
    from .players import Person

DEFAULT_TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"


class FakeTelegram(BotApiMethods, Faults, Inspection):
    """A faithful, stateful stand-in for api.telegram.org, owned by the test-suite."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "suishou_test_bot",
        *,
        bot_name: str = "Suishou Test Bot",
        strict_html: bool = True,
    ) -> None:
        self.token = token
        self.strict_html = strict_html
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.clock = time.time
        self.files = FileStore()
        self.calls: list[Call] = []
        self.unsupported: list[str] = []
        self.callback_answers: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._users: dict[int, dict[str, Any]] = {self.bot_id: self._bot_from()}
        self._chats: dict[int, _Chat] = {}
        self._failures: list[_Failure] = []
        self._faults: list[_Fault] = []
        self._outage_until: float | None = None
        self.outage_hits = 0  # calls an outage turned away (tests/fake_telegram/faults.py)
        self._outage_calls = 0
        self._outage_calls_until: float | None = None
        self.pace: GroupPace | None = None  # Telegram's pace in groups, when on (faults.py)
        self._chaos: _Chaos | None = None  # random_faults (faults.py)
        self.faults_met: Counter[str] = Counter()  # injected faults, by kind, as calls met them
        self.turned_away: list[Call] = []  # calls a 502 or a lost request kept from the Bot API
        # Called (in the serving thread) once Telegram applied a call, before it answers: a
        # test can kill the client there, so the answer of an applied call is never read.
        self.on_applied: Callable[[Call], None] | None = None
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 500_000_000
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._polls: list[_Poll] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._next_user_id = 7_100_000_001
        self._next_group_id = 1
        self._next_query_id = 4_300_000_000_000_000_001
        self._next_media_group = 13_900_000_000_000_001

    # ----------------------------------------------------------------- world building

    def new_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        started: bool = False,
    ) -> dict[str, Any]:
        """Create a Telegram user (and their private chat with the bot); returns User JSON.

        ``started=False`` means the user never opened the bot, so the bot cannot message them
        (403) until they do something in the private chat.
        """
        with self._lock:
            user_id = self._next_user_id
            self._next_user_id += 1
            user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[user_id] = user
            chat_json: dict[str, Any] = {"id": user_id, "first_name": first_name}
            if last_name:
                chat_json["last_name"] = last_name
            if username:
                chat_json["username"] = username
            chat_json["type"] = "private"
            self._chats[user_id] = _Chat(
                json=chat_json, members={user_id: "member"}, started=started
            )
            return copy.deepcopy(user)

    def new_group(
        self,
        title: str,
        *,
        forum: bool = False,
        supergroup: bool = True,
        members: Any = (),
        bot_status: str = "administrator",
        username: str | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a group the bot is in; returns Chat JSON as it appears in messages.

        ``members`` holds User dicts or (User, status) pairs; statuses are "member",
        "administrator", "creator", "left" or "kicked". Without an owner a synthetic one is made.
        """
        with self._lock:
            n = self._next_group_id
            self._next_group_id += 1
            chat_id = -(1000000000000 + 2345600000 + n) if supergroup else -(4012300000 + n)
            chat_json: dict[str, Any] = {"id": chat_id, "title": title}
            if username:
                chat_json["username"] = username
            chat_json["type"] = "supergroup" if supergroup else "group"
            if forum:
                if not supergroup:
                    raise ValueError("only supergroups can be forums")
                chat_json["is_forum"] = True
            # Message 1 is the creation service message; in forums id 1 is the General topic.
            chat = _Chat(json=chat_json, bot_status=bot_status, next_id=2)
            if owner is None:
                owner = self.new_user(f"{title} owner", language_code=None)
            chat.members[owner["id"]] = "creator"
            for entry in members:
                user, status = entry if isinstance(entry, tuple) else (entry, "member")
                user = getattr(user, "user", user)  # a Person is fine too
                self._users.setdefault(user["id"], copy.deepcopy(user))
                chat.members[user["id"]] = status
            self._chats[chat_id] = chat
            return copy.deepcopy(chat_json)

    def new_topic(self, chat_id: int, name: str, *, icon_color: int = 7322096) -> int:
        """Create a forum topic as a group admin would; returns its message_thread_id."""
        with self._lock:
            chat = self._chats[chat_id]
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum")
            owner_id = next(u for u, s in chat.members.items() if s == "creator")
            return self._create_topic(chat, self._users[owner_id], name, icon_color)

    def add_member(self, chat_id: int, user: Any, status: str = "member") -> None:
        """Put a user (User dict or Person) into a group with a ChatMember status."""
        user = getattr(user, "user", user)
        with self._lock:
            self._users.setdefault(user["id"], copy.deepcopy(user))
            self._chats[chat_id].members[user["id"]] = status

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """Change the bot's own membership ("administrator", "member", "left", "kicked")."""
        with self._lock:
            self._chats[chat_id].bot_status = status

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to their private chat fail with 403."""
        with self._lock:
            self._chats[user_id].blocked = True

    def unblock_bot(self, user_id: int) -> None:
        """The user unblocks the bot."""
        with self._lock:
            self._chats[user_id].blocked = False

    def person(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> Person:
        """A new user who can act (see players.Person)."""
        from .players import Person

        return Person(
            self, first_name, last_name=last_name, username=username, language_code=language_code
        )

    def user(self, user_id: int) -> dict[str, Any]:
        """User JSON of a known user."""
        with self._lock:
            return copy.deepcopy(self._users[user_id])

    def chat(self, chat_id: int) -> dict[str, Any]:
        """Chat JSON of a known chat, as it appears in messages."""
        with self._lock:
            return copy.deepcopy(self._chats[chat_id].json)

    def store_file(
        self, data: bytes, *, kind: str = "photos", ext: str = "jpg"
    ) -> tuple[str, str]:
        """Store raw bytes as a downloadable file; returns (file_id, file_unique_id).

        Photos become a one-size photo (sendable by file_id as a photo), anything else a document.
        Use Person.photo for Telegram's real re-encoding.
        """
        with self._lock:
            stored = self.files.add(data, kind=kind, ext=ext)
            if kind == "photos":
                stored.photo_group = [self.files.photo_size(stored)]
            else:
                stored.document = {
                    "file_name": f"file.{ext}",
                    "mime_type": mimetypes.guess_type(f"file.{ext}")[0]
                    or "application/octet-stream",
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.size,
                }
            return stored.file_id, stored.file_unique_id

    def file_path(self, file_id: str) -> str:
        """Where a file is served, as getFile would say (for tests reading what was sent)."""
        with self._lock:
            return self.files.by_id[file_id].file_path

    def download(self, file_path: str) -> tuple[int, bytes]:
        """What GET <base_file_url><token>/<file_path> answers."""
        with self._lock:
            stored = self.files.by_path.get(file_path.lstrip("/"))
            if stored is None or stored.data is None or stored.size > DOWNLOAD_LIMIT:
                body = {"ok": False, "error_code": 404, "description": "Not Found"}
                return 404, json.dumps(body).encode()
            return 200, stored.data

    # ----------------------------------------------------------------- transcript

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[TgMessage]:
        """Visible messages of a chat (or one topic/thread), oldest first."""
        with self._lock:
            chat = self._chats[chat_id]
            return [
                self._snapshot(m)
                for m in chat.messages.values()
                if not m.deleted and (thread_id is None or m.thread_id == thread_id)
            ]

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[TgMessage]:
        """Visible messages the bot sent to a chat (or one topic)."""
        return [m for m in self.messages(chat_id, thread_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int, thread_id: int | None = None) -> TgMessage | None:
        """The bot's latest visible message in a chat, or None (see ``transcript`` to debug)."""
        found = self.bot_messages(chat_id, thread_id)
        return found[-1] if found else None

    def message(self, chat_id: int, message_id: int) -> TgMessage:
        """Current state of a message, deleted ones included (see ``.deleted``)."""
        with self._lock:
            return self._snapshot(self._chats[chat_id].messages[message_id])

    def transcript(self, chat_id: int, thread_id: int | None = None) -> str:
        """A readable dump of a chat, for assertion messages."""
        lines = []
        for m in self.messages(chat_id, thread_id):
            who = "bot" if m["from"]["id"] == self.bot_id else m["from"]["first_name"]
            body = m.get("text") or m.get("caption") or ""
            kinds = [k for k in ("photo", "document", "location", "venue", "contact") if k in m]
            buttons = f" {m.buttons}" if m.buttons else ""
            lines.append(f"#{m['message_id']} [{who}] {' '.join(kinds)} {body}{buttons}".strip())
        return "\n".join(lines)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method (case-insensitive)."""
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """Commands set for exactly this scope and language, as getMyCommands would answer."""
        with self._lock:
            key = self._scope_key(scope or {"type": "default"}, language_code or "")
            return copy.deepcopy(self._commands.get(key, []))

    # ----------------------------------------------------------------- errors and updates

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of a method (to ``chat_id``) fail with this error."""
        with self._lock:
            self._failures.append(
                _Failure(
                    method.lower(), ApiError(error_code, description, parameters), times, chat_id
                )
            )

    def next_update_id(self) -> int:
        """A fresh, increasing update_id."""
        with self._lock:
            self._last_update_id += 1
            return self._last_update_id

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates and wake any long poll."""
        with self._lock:
            update = copy.deepcopy(update)
            update.setdefault("update_id", self.next_update_id())
            self._updates.append(update)
            self._cond.notify_all()

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by an offset."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def abort_long_polls(self) -> None:
        """End every waiting getUpdates now with an empty result (used on client shutdown)."""
        with self._lock:
            for poll in self._polls:
                poll.state = "aborted"
            self._cond.notify_all()

    def bot_receives(self, update: dict[str, Any]) -> bool:
        """Whether Telegram would deliver this update to the bot, given group privacy mode.

        A bot without can_read_all_group_messages that is not an admin sees, in groups, only
        commands (plain or addressed to it), mentions of it, replies to its messages (in forum
        topics the topic opener counts) and service messages.
        """
        message = update.get("message") or update.get("edited_message")
        if message is None:
            return True
        with self._lock:
            chat = self._chats.get(message["chat"]["id"])
            if chat is None or chat.type == "private":
                return True
            if chat.bot_status in ("left", "kicked"):
                return False
            if chat.bot_status in ("creator", "administrator"):
                return True
        if self.bot_user.get("can_read_all_group_messages"):
            return True
        name = "@" + self.bot_user["username"].lower()
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities", []) + message.get("caption_entities", []):
            covered = utf16_slice(text, entity["offset"], entity["length"]).lower()
            if entity["type"] == "bot_command" and ("@" not in covered or covered.endswith(name)):
                return True
            if entity["type"] == "mention" and covered == name:
                return True
        replied = message.get("reply_to_message")
        if replied and replied.get("from", {}).get("id") == self.bot_id:
            return True
        content = ("text", "photo", "document", "location", "venue", "contact", "caption")
        return not any(key in message for key in content)

    # ----------------------------------------------------------------- entry points

    def api_request(
        self,
        token: str | None,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """A request as it arrives at /bot<token>/<method>: checks the token, then handles.

        Raises FrontendError or ResponseLost for injected transport faults (see faults.py).
        """
        fault = self._transport_fault(method, params.get("chat_id"))
        if fault in ("502", "lost-before"):
            with self._lock:
                status = 502 if fault == "502" else 0  # 0: no answer at all
                name = self.method_names().get(method.lower(), method)
                call = Call(name, normalise(params), sorted(files or {}), status, None)
                call.at = time.monotonic()
                self.turned_away.append(call)
            if fault == "502":
                raise FrontendError(502, BAD_GATEWAY_HTML)
            raise ResponseLost(applied=False)
        if token is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        flood = None
        if fault is not None and fault.startswith("429:"):
            wait = int(fault[4:])
            flood = ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        call, status, body = self._handle(method, params, files or {}, flood)
        call.lost = fault == "lost-after"
        if self.on_applied is not None and flood is None:
            self.on_applied(call)
        if call.lost:
            raise ResponseLost(applied=True)
        return status, body

    def file_request(self, token: str | None, file_path: str) -> tuple[int, bytes]:
        """A download as it arrives at /file/bot<token>/<file_path>."""
        if token != self.token:
            code, text = (401, "Unauthorized") if token else (404, "Not Found")
            body = {"ok": False, "error_code": code, "description": text}
            return code, json.dumps(body).encode()
        return self.download(file_path)

    def handle(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API method; returns (HTTP status, JSON body)."""
        _, status, body = self._handle(method, params, files or {})
        return status, body

    def _handle(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        refuse: ApiError | None = None,
    ) -> tuple[Call, int, dict[str, Any]]:
        """Record and run one call (or answer it with `refuse` instead, e.g. flood control)."""
        with self._lock:
            name = self.method_names().get(method.lower(), method)
            call = Call(name, normalise(params), sorted(files), at=time.monotonic())
            self.calls.append(call)
            try:
                if refuse is not None:
                    raise refuse
                result = self._dispatch(name, Params(params), files)
                status, body = 200, {"ok": True, "result": result}
            except ApiError as exc:
                status, body = exc.code, exc.body()
            call.status, call.response = status, copy.deepcopy(body)
            return call, status, body

    def _dispatch(self, name: str, p: Params, files: dict[str, tuple[str, bytes, str]]) -> Any:
        for failure in self._failures:
            to = failure.chat_id
            if to is not None and p.str("chat_id") != str(to):
                continue
            if failure.method == name.lower() and failure.times > 0:
                failure.times -= 1
                raise failure.error
        handler = (
            getattr(self, f"api_{name}", None) if name in self.method_names().values() else None
        )
        if handler is None:
            self.unsupported.append(name)
            raise ApiError(404, "Not Found")
        posting = self._paced(name, p)  # raises Telegram's 429 beyond a group's pace
        result = handler(p, files)
        if posting is not None and self.pace is not None:
            self.pace.count(*posting, self.clock())
        return result

    # ----------------------------------------------------------------- internals

    def _bot_from(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_user["first_name"],
            "username": self.bot_user["username"],
        }

    def _now(self) -> int:
        return int(self.clock())

    def _snapshot(self, m: _Msg, *, deep: bool = True) -> TgMessage:
        """A message as it is now; `deep=False` shares the (never mutated) nested values,
        which is much cheaper for tests that poll (edits replace values, never change them)."""
        clone = copy.deepcopy if deep else copy.copy
        snap = TgMessage(clone(m.json))
        snap.html, snap.caption_html = m.html, m.caption_html
        snap.reply_keyboard = clone(m.reply_keyboard)
        if m.reply_keyboard is not None and "reply_markup" not in snap:
            snap["reply_markup"] = clone(m.reply_keyboard)
        snap.deleted, snap.thread_id = m.deleted, m.thread_id
        return snap

    def _scope_key(self, scope: dict[str, Any], language_code: str) -> tuple[str, str]:
        scope = dict(scope)
        for key in ("chat_id", "user_id"):
            if isinstance(scope.get(key), str) and scope[key].lstrip("-").isdigit():
                scope[key] = int(scope[key])
        return json.dumps(scope, sort_keys=True), language_code

    def _store(
        self,
        chat: _Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: _Msg | None = None,
        topic_message: bool = False,
    ) -> _Msg:
        """Append a message to a chat with Telegram's thread and reply fields filled in."""
        message_id = chat.next_id
        chat.next_id += 1
        data: dict[str, Any] = {"message_id": message_id}
        if thread_id is not None:
            data["message_thread_id"] = thread_id
        data["from"] = copy.deepcopy(sender)
        data["chat"] = copy.deepcopy(chat.json)
        data["date"] = self._now()
        if topic_message:
            data["is_topic_message"] = True
        if reply_to is None and topic_message and thread_id in chat.messages:
            reply_to = chat.messages[thread_id]  # Telegram's quirk: replies to the topic opener
        if reply_to is not None:
            quoted = copy.deepcopy(reply_to.json)
            quoted.pop("reply_to_message", None)
            data["reply_to_message"] = quoted
        data.update(copy.deepcopy(content))
        stored = _Msg(json=data, thread_id=thread_id)
        chat.messages[message_id] = stored
        return stored

    def _thread_for(
        self, chat: _Chat, thread_id: int | None, reply_to: _Msg | None
    ) -> tuple[int | None, bool]:
        """(message_thread_id, is_topic_message) for a new message; raises if invalid."""
        if thread_id is not None:
            if not chat.is_forum or thread_id not in chat.topics:
                raise ApiError(400, "Bad Request: message thread not found")
            if reply_to is not None and reply_to.thread_id != thread_id:
                raise ApiError(400, "Bad Request: message to be replied not found")
            return thread_id, True
        if reply_to is None:
            return None, False
        if chat.is_forum:
            return reply_to.thread_id, reply_to.thread_id is not None
        if chat.type == "supergroup":
            # Replies in ordinary supergroups carry the root of their reply chain.
            return reply_to.thread_id or reply_to.json["message_id"], False
        return None, False

    def _create_topic(
        self, chat: _Chat, creator: dict[str, Any], name: str, icon_color: int
    ) -> int:
        thread_id = chat.next_id
        content = {"forum_topic_created": {"name": name, "icon_color": icon_color}}
        self._store(chat, creator, content, thread_id=thread_id, topic_message=True)
        chat.topics[thread_id] = {"name": name, "icon_color": icon_color}
        return thread_id
