"""Staff sessions in the web console: server-side, expiring, ended at once by a revocation.

The browser holds a random session id (in a signed cookie, handlers/web/console/sessions.py);
the table holds its hash, the person and the desk it was opened for. Every request asks
`seat`: the session must be live, and the person must still be unrevoked and hold the desk,
so revoking a person (or their grant) takes effect on their very next click.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from bot.clock import Clock
from bot.people.signin import Kind, Used
from bot.people.staff import Seat, StaffDirectory
from storage import staff_sessions
from storage.database import Database

# A session from an invite lasts long: a person without Telegram cannot ask for a new link.
# One from /web is a working day: a new link is one /web away, and someone who left the
# desk's chat keeps no console for long (Telegram proves membership; grants outlive it).
SESSION_TTL = timedelta(days=30)
CHAT_SESSION_TTL = timedelta(hours=12)
ID_BYTES = 32


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


class StaffSessions:
    def __init__(self, *, db: Database, clock: Clock, staff: StaffDirectory) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff

    @staticmethod
    def ttl(used: Used) -> timedelta:
        return CHAT_SESSION_TTL if used.kind is Kind.SIGNIN else SESSION_TTL

    async def start(self, used: Used) -> str:
        """A new session for the person a link just signed in; its id (for the cookie)."""
        session_id = secrets.token_urlsafe(ID_BYTES)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await staff_sessions.add(
                conn,
                _hash(session_id),
                staff_id=used.staff_id,
                desk=used.desk,
                now=now,
                expires=now + self.ttl(used),
            )
        return session_id

    async def seat(self, session_id: str) -> Seat | None:
        """Who is signed in with this session, at which desk; None once it cannot act."""
        async with self.db.transaction() as conn:
            row = await staff_sessions.live(conn, _hash(session_id), self.clock.now())
        if row is None:
            return None
        person = await self.staff.get(row.staff_id)
        if person is None or person.revoked or row.desk not in await self.staff.desks(person.id):
            return None
        return Seat(person, row.desk)

    async def end(self, session_id: str) -> None:
        async with self.db.transaction() as conn:
            await staff_sessions.end(conn, _hash(session_id), self.clock.now())

    async def end_all(self, staff_id: int) -> int:
        async with self.db.transaction() as conn:
            return await staff_sessions.end_all(conn, staff_id, self.clock.now())
