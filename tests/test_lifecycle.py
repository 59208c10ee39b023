"""Every transition and every refusal of the lifecycle, as a table."""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import Action, Actor, Refused, Role, Status, decide

S = Status
A = Action
STAFF_1 = Actor(Role.STAFF, 1)
STAFF_2 = Actor(Role.STAFF, 2)
SUP = Actor(Role.SUPERVISOR, 9)
RIDER = Actor(Role.RIDER, 5)
SYSTEM = Actor(Role.SYSTEM)


@pytest.mark.parametrize(
    ("status", "handler", "actor", "action", "after"),
    [
        (S.DISPATCHED, None, STAFF_1, A.ACCEPT, S.ACCEPTED),
        (S.REOPENED, 1, STAFF_2, A.ACCEPT, S.ACCEPTED),
        (S.ACCEPTED, 1, STAFF_1, A.RESOLVE, S.RESOLVED),
        (S.ACCEPTED, 1, SUP, A.RESOLVE, S.RESOLVED),
        (S.DISPATCHED, None, STAFF_1, A.TRANSFER, S.DISPATCHED),
        (S.ACCEPTED, 1, STAFF_1, A.TRANSFER, S.DISPATCHED),
        (S.DISPATCHED, None, STAFF_2, A.REJECT, S.REJECTED),
        (S.ACCEPTED, 1, SUP, A.REJECT, S.REJECTED),
        (S.RESOLVED, 1, RIDER, A.CONFIRM, S.CLOSED),
        (S.RESOLVED, 1, RIDER, A.REOPEN, S.REOPENED),
        (S.RESOLVED, 1, SYSTEM, A.AUTO_CLOSE, S.CLOSED),
        (S.ACCEPTED, 1, STAFF_2, A.REPLY, S.ACCEPTED),
        (S.RESOLVED, 1, RIDER, A.REPLY, S.RESOLVED),
    ],
)
def test_allowed(
    status: Status, handler: int | None, actor: Actor, action: Action, after: Status
) -> None:
    assert decide(status, handler, actor, action) is after


@pytest.mark.parametrize(
    ("status", "handler", "actor", "action", "why"),
    [
        (S.CLOSED, 1, STAFF_1, A.ACCEPT, "refused.final"),
        (S.REJECTED, None, SUP, A.RESOLVE, "refused.final"),
        (S.CLOSED, 1, STAFF_1, A.REPLY, "refused.final"),
        (S.ACCEPTED, 1, STAFF_2, A.ACCEPT, "refused.already_accepted"),
        (S.ACCEPTED, 1, STAFF_1, A.ACCEPT, "refused.already_yours"),
        (S.DISPATCHED, None, STAFF_1, A.RESOLVE, "refused.accept_first"),
        (S.ACCEPTED, 1, STAFF_2, A.RESOLVE, "refused.claimed_by_other"),
        (S.ACCEPTED, 1, STAFF_2, A.TRANSFER, "refused.claimed_by_other"),
        (S.ACCEPTED, 1, STAFF_2, A.REJECT, "refused.claimed_by_other"),
        (S.RESOLVED, 1, STAFF_1, A.ACCEPT, "refused.awaiting_rider"),
        (S.ACCEPTED, 1, RIDER, A.CONFIRM, "refused.not_resolved"),
        (S.RESOLVED, 1, STAFF_1, A.CONFIRM, "refused.role"),
        (S.DISPATCHED, None, RIDER, A.ACCEPT, "refused.role"),
        (S.RESOLVED, 1, RIDER, A.AUTO_CLOSE, "refused.role"),
    ],
)
def test_refused(
    status: Status, handler: int | None, actor: Actor, action: Action, why: str
) -> None:
    with pytest.raises(Refused) as err:
        decide(status, handler, actor, action)
    assert err.value.key == why
