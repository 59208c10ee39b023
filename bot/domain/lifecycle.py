"""The report lifecycle: the one place that decides which step may follow which, and who acts.

    submitted → dispatched → accepted → resolved → closed        (受理 → 处置 → 核查 → 结案)
                    ↑            │           └→ reopened → accepted …  (rider: not fixed, 返工)
                    └─ transfer ─┘  any open state → rejected (a closure with a reason)

States are grouped the FixMyStreet way, so metrics ask "is it closed?", not "which label?":
open (someone must act), awaiting the rider's confirmation, and final.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    REJECTED = "rejected"


OPEN = frozenset({Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED, Status.REOPENED})
AWAITING_RIDER = frozenset({Status.RESOLVED})
FINAL = frozenset({Status.CLOSED, Status.REJECTED})
UNCLAIMED = frozenset({Status.SUBMITTED, Status.DISPATCHED, Status.REOPENED})


class Action(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"
    TRANSFER = "transfer"
    REJECT = "reject"
    REPLY = "reply"
    CONFIRM = "confirm"  # the rider: fixed
    REOPEN = "reopen"  # the rider: not fixed
    AUTO_CLOSE = "auto_close"  # nobody answered in time: closed as fixed


class Role(StrEnum):
    STAFF = "staff"  # in the owning community's dispatcher chat
    SUPERVISOR = "supervisor"  # in the supervisors' chat: may act on any report
    RIDER = "rider"  # the rider who reported it
    SYSTEM = "system"


REJECT_REASONS = ("duplicate", "not_hazard", "not_ours", "no_info")


@dataclass(frozen=True)
class Actor:
    role: Role
    id: int | None = None
    name: str | None = None


class Refused(Exception):
    """The action is not allowed now; `key` names the text that explains why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


_STAFF = frozenset({Role.STAFF, Role.SUPERVISOR})
_ALLOWED_ROLES = {
    Action.ACCEPT: _STAFF,
    Action.RESOLVE: _STAFF,
    Action.TRANSFER: _STAFF,
    Action.REJECT: _STAFF,
    Action.REPLY: _STAFF | {Role.RIDER},
    Action.CONFIRM: frozenset({Role.RIDER}),
    Action.REOPEN: frozenset({Role.RIDER}),
    Action.AUTO_CLOSE: frozenset({Role.SYSTEM}),
}


def decide(status: Status, handler_id: int | None, actor: Actor, action: Action) -> Status:
    """The status after `actor` takes `action`, or Refused with the reason."""
    if actor.role not in _ALLOWED_ROLES[action]:
        raise Refused("refused.role")
    if status in FINAL:
        raise Refused("refused.final")
    if action is Action.REPLY:
        return status
    if action in (Action.CONFIRM, Action.REOPEN, Action.AUTO_CLOSE):
        if status is not Status.RESOLVED:
            raise Refused("refused.not_resolved")
        return Status.REOPENED if action is Action.REOPEN else Status.CLOSED
    if status is Status.RESOLVED:
        raise Refused("refused.awaiting_rider")
    if action is Action.ACCEPT:
        if status is Status.ACCEPTED:
            raise Refused(
                "refused.already_yours" if handler_id == actor.id else "refused.already_accepted"
            )
        return Status.ACCEPTED
    if action is Action.RESOLVE and status in UNCLAIMED:
        raise Refused("refused.accept_first")
    # Resolve, transfer or reject a claimed report: its handler, or a supervisor.
    if status is Status.ACCEPTED and actor.role is Role.STAFF and handler_id != actor.id:
        raise Refused("refused.claimed_by_other")
    return {
        Action.RESOLVE: Status.RESOLVED,
        Action.TRANSFER: Status.DISPATCHED,
        Action.REJECT: Status.REJECTED,
    }[action]
