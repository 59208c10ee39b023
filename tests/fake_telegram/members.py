"""Who is in a group: the ChatMember methods, and people joining, leaving, banned, restricted.

Statuses are the Bot API's: "creator", "administrator", "member", "restricted" (with
``is_member`` telling whether the restricted user is still in the chat), "left" and
"kicked" (banned). Leaving or being removed posts Telegram's service message
(``left_chat_member``); restricting someone posts nothing. A person sees (and can press
buttons in) a group while present, or while it is public (it has a username) and they
are not banned.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .helpers import ADMIN
from .params import ApiError, Params, bad

if TYPE_CHECKING:
    from .api import FakeTelegram
    from .state import _Chat

PRESENT = ("creator", "administrator", "member")
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)
# ChatMemberRestricted carries every permission of ChatPermissions, plus is_member.
_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


class Memberships:
    """Mixin of FakeTelegram: membership state changes and the ChatMember methods."""

    # ----------------------------------------------------------------- world building

    def leave(self: FakeTelegram, chat_id: int, user: Any) -> dict[str, Any]:
        """The user leaves the group themselves; returns the service message's Update."""
        return self._remove(chat_id, user, "left", by=None)

    def ban(self: FakeTelegram, chat_id: int, user: Any, *, by: Any = None) -> dict[str, Any]:
        """An admin bans (kicks) the user; returns the service message's Update."""
        return self._remove(chat_id, user, "kicked", by=by)

    def restrict(
        self: FakeTelegram,
        chat_id: int,
        user: Any,
        *,
        is_member: bool = True,
        until_date: int = 0,
        **permissions: bool,
    ) -> None:
        """An admin restricts the user (``is_member=False``: restricted but not in the chat)."""
        user = getattr(user, "user", user)
        unknown = set(permissions) - set(_PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        with self._lock:
            chat = self._chats[chat_id]
            chat.members[user["id"]] = "restricted"
            chat.restrictions[user["id"]] = {
                "is_member": is_member,
                **{p: permissions.get(p, False) for p in _PERMISSIONS},
                "until_date": until_date,
            }

    def make_public(self: FakeTelegram, chat_id: int, username: str) -> None:
        """The owner gives the group a public @username: anyone not banned can read it."""
        with self._lock:
            self._chats[chat_id].json["username"] = username

    def can_see(self: FakeTelegram, chat_id: int, user_id: int) -> bool:
        """Whether the user's client shows this chat (so they could press its buttons)."""
        with self._lock:
            chat = self._chats[chat_id]
            if chat.type == "private":
                return chat_id == user_id
            if self._present(chat, user_id):
                return True
            return "username" in chat.json and chat.members.get(user_id) != "kicked"

    def _present(self: FakeTelegram, chat: _Chat, user_id: int) -> bool:
        status = chat.members.get(user_id, "left")
        if status == "restricted":
            return bool(chat.restrictions.get(user_id, {}).get("is_member"))
        return status in PRESENT

    def _remove(
        self: FakeTelegram, chat_id: int, user: Any, status: str, by: Any
    ) -> dict[str, Any]:
        user = getattr(user, "user", user)
        actor = getattr(by, "user", by) or user
        with self._lock:
            chat = self._chats[chat_id]
            if chat.type == "private":
                raise AssertionError("nobody leaves a private chat; they block the bot")
            if not self._present(chat, user["id"]):
                raise AssertionError(f"user {user['id']} is not in chat {chat_id}")
            chat.members[user["id"]] = status
            chat.restrictions.pop(user["id"], None)
            content = {"left_chat_member": copy.deepcopy(user)}
            msg = self._store(chat, actor, content)
            return {"update_id": self.next_update_id(), "message": copy.deepcopy(msg.json)}

    # ----------------------------------------------------------------- Bot API methods

    def api_getChatMember(self: FakeTelegram, p: Params, files: Any) -> Any:
        chat = self._find_chat(p.chat_id())
        user_id = p.int("user_id")
        if user_id is None or user_id <= 0:
            raise bad("invalid user_id specified")
        if chat.type != "private" and chat.bot_status in ("left", "kicked"):
            verb = "is not a member of" if chat.bot_status == "left" else "was kicked from"
            raise ApiError(403, f"Forbidden: bot {verb} the {chat.type} chat")
        if user_id not in self._users:
            raise bad("user not found")
        if user_id == self.bot_id:
            status = chat.bot_status if chat.type != "private" else "member"
        elif chat.type == "private":
            status = "member" if user_id == chat.id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member_json(chat, user_id, status)

    def api_getChatAdministrators(self: FakeTelegram, p: Params, files: Any) -> Any:
        chat = self._find_chat(p.chat_id())
        if chat.type == "private":
            raise bad("there are no administrators in the private chat")
        admins = [self._member_json(chat, u, s) for u, s in chat.members.items() if s in ADMIN]
        if chat.bot_status in ADMIN:
            admins.append(self._member_json(chat, self.bot_id, chat.bot_status))
        return admins

    def api_getChatMemberCount(self: FakeTelegram, p: Params, files: Any) -> Any:
        chat = self._find_chat(p.chat_id())
        count = sum(1 for u in chat.members if self._present(chat, u))
        return count + (chat.bot_status in PRESENT or chat.type == "private")

    def _member_json(self: FakeTelegram, chat: _Chat, user_id: int, status: str) -> dict[str, Any]:
        """ChatMember JSON for one status, with exactly the fields Telegram sends for it."""
        user = copy.deepcopy(self._users[user_id])
        for key in ("can_join_groups", "can_read_all_group_messages", "supports_inline_queries"):
            user.pop(key, None)
        if status == "creator":
            return {"user": user, "status": "creator", "is_anonymous": False}
        if status == "administrator":
            return {
                "user": user,
                "status": "administrator",
                "can_be_edited": False,
                "is_anonymous": False,
                **dict.fromkeys(_ADMIN_RIGHTS, True),
                "can_promote_members": False,
            }
        if status == "restricted":
            return {"user": user, "status": "restricted", **chat.restrictions[user_id]}
        if status == "kicked":
            return {"user": user, "status": "kicked", "until_date": 0}
        if status == "left":
            return {"user": user, "status": "left"}
        return {"user": user, "status": "member"}
