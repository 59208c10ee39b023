"""Desks: where staff work on reports, and which desk a chat (or forum topic) is.

A community's desk is its dispatcher chat, or one topic of a forum group; the county's desk
is the supervisors' chat. Every command that answers for a desk (/stats, /digest, /export,
/ticket) asks `desk_at` first, so a topic answers for its own community and a chat that is
no desk is told so before anything is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import ChatTarget, Community, Config
from storage.figures import EVERY, Scope

COUNTY = "county"  # the supervisors' desk's id (a community's desk has the community's)


@dataclass(frozen=True)
class Desk:
    """One community's desk, or the county's (the supervisors: `community` is None)."""

    name: str
    chat: ChatTarget
    community: Community | None = None

    @property
    def id(self) -> str:
        """The id staff grants and sessions name this desk by."""
        return self.community.id if self.community is not None else COUNTY

    @property
    def is_county(self) -> bool:
        return self.community is None

    @property
    def scope(self) -> Scope:
        """Whose reports this desk sees in the figures: its community's, or every desk's."""
        return EVERY if self.community is None else self.community.id


def desks(config: Config) -> list[Desk]:
    """Every desk: the communities in file order, then the county."""
    return [Desk(c.name, c.chat, c) for c in config.communities] + [
        Desk(config.supervisors.name, config.supervisors.chat)
    ]


def desk_at(config: Config, chat_id: int, topic_id: int | None) -> Desk | None:
    """The desk a message in this chat (and topic) belongs to, the most specific first.

    A desk configured on one topic of a forum group beats a desk configured on the whole
    group; a message in a group that holds topic desks only, outside their topics, is none.
    """
    covering = [d for d in desks(config) if d.chat.covers(chat_id, topic_id)]
    covering.sort(key=lambda d: d.chat.topic_id is None)  # topic desks first (stable)
    return covering[0] if covering else None


def desk_ids_in(config: Config, chat_id: int) -> list[str]:
    """The desks held in this chat (a forum group may hold several, one per topic)."""
    return [d.id for d in desks(config) if d.chat.chat_id == chat_id]
