"""Staff are persons: a community worker or a supervisor, whatever channel they use.

A person has accounts on channels — ("telegram", user id) today, a web sign-in, later
("wecom", userid) — and works at desks: a community's (its id) or the county's
(``COUNTY``, the supervisors). Each channel proves the desk its own way: Telegram by the
person belonging to the desk's chat now (bot/casework/access.py), the web console by a
grant given with an invite or a sign-in link asked for from that chat. Whatever the proof,
the person acts at a `Seat`, and casework decides from the seat and the report alone
(bot/casework/permission.py), so a step is allowed or refused the same on every channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import desks
from storage import staff as rows
from storage.database import Database

COUNTY = desks.COUNTY  # the supervisors' desk


@dataclass(frozen=True)
class StaffPerson:
    id: int
    name: str
    revoked: bool = False


@dataclass(frozen=True)
class Seat:
    """A person at a desk, as their channel proved it: a community id, or COUNTY."""

    person: StaffPerson
    desk: str


def _person(row: rows.StaffRow) -> StaffPerson:
    return StaffPerson(row.id, row.name, row.revoked_at is not None)


class StaffDirectory:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def from_account(self, channel: str, external_id: str, name: str) -> StaffPerson:
        """The person behind a channel account, made at their first action; the name the
        channel shows now is kept (people rename themselves)."""
        name = name[:64] or "?"
        now = self.clock.now()
        async with self.db.transaction() as conn:
            row = await rows.by_account(conn, channel, external_id)
            if row is None:
                made = await rows.create(conn, name, now)
                if await rows.add_account(conn, made.id, channel, external_id, now):
                    return _person(made)
                await rows.forget(conn, made.id)
                row = await rows.by_account(conn, channel, external_id)
                assert row is not None
            if row.name != name:
                await rows.rename(conn, row.id, name)
                row = rows.StaffRow(row.id, name, row.revoked_at)
        return _person(row)

    async def create(self, name: str) -> StaffPerson:
        """A person with no account yet (an invite will give them a web sign-in)."""
        async with self.db.transaction() as conn:
            return _person(await rows.create(conn, name, self.clock.now()))

    async def get(self, staff_id: int) -> StaffPerson | None:
        async with self.db.transaction() as conn:
            row = await rows.get(conn, staff_id)
        return _person(row) if row else None

    async def grant(self, staff_id: int, desk: str) -> None:
        async with self.db.transaction() as conn:
            await rows.grant(conn, staff_id, desk, self.clock.now())

    async def left(self, channel: str, external_id: str, desk_ids: list[str]) -> int:
        """The person behind this account left the chat of these desks: they no longer work
        from them in the console either (their next click there is refused); other desks,
        and the person, stay. How many grants ended (none for someone who never had one)."""
        if not desk_ids:
            return 0
        async with self.db.transaction() as conn:
            row = await rows.by_account(conn, channel, external_id)
            if row is None:
                return 0
            return await rows.ungrant(conn, row.id, desk_ids, self.clock.now())

    async def desks(self, staff_id: int) -> list[str]:
        """The desks the person may work from outside a chat (none once revoked)."""
        async with self.db.transaction() as conn:
            row = await rows.get(conn, staff_id)
            if row is None or row.revoked_at is not None:
                return []
            return await rows.desks(conn, staff_id)

    async def revoke(self, staff_id: int) -> bool:
        """The person may no longer act, in any chat or page: grants and web sessions end,
        and casework refuses them (bot/casework/permission.py); whether they were active."""
        async with self.db.transaction() as conn:
            return await rows.revoke(conn, staff_id, self.clock.now())

    async def everyone(self) -> list[tuple[StaffPerson, list[str]]]:
        async with self.db.transaction() as conn:
            return [(_person(r), d) for r, d in await rows.everyone(conn)]
