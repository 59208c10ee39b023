"""Who may act on a report: the one check every channel goes through.

A channel proves a person's desk its own way (a Telegram chat by membership, the web
console by a grant); from then on only the desk and the report matter: the report's own
community's desk acts as its staff, the county's desk as supervisors (who may act on any
report), anyone else is refused. A revoked person is refused everywhere.
"""

from __future__ import annotations

from bot.domain.lifecycle import Actor, Refused, Role
from bot.people.staff import COUNTY, Seat
from storage.records import Report


def role_at(desk: str, report: Report) -> Role:
    if report.community_id is not None and desk == report.community_id:
        return Role.STAFF
    if desk == COUNTY:
        # A report at the county's desk (no community took it) is the supervisors' own.
        return Role.STAFF if report.community_id is None else Role.SUPERVISOR
    raise Refused("refused.wrong_desk", ticket=report.id)


def actor_at(seat: Seat, report: Report) -> Actor:
    """The actor a seat makes for this report, or Refused."""
    if seat.person.revoked:
        raise Refused("refused.revoked")
    return Actor(role_at(seat.desk, report), seat.person.id, seat.person.name)
