"""One-time links into the staff console: an invite, or a sign-in link asked for in a chat.

A link is a random token (256 bits) in a URL; only its SHA-256 is kept, so the database
holds nothing that opens the console. It works once and expires: an invite (printed by
`suishou staff invite` for someone to open later) after INVITE_TTL, a sign-in link (sent in
a private message for /web in a dispatcher chat) after SIGNIN_TTL. Each names a person and
a desk; using it starts a session at that desk (bot/people/sessions.py), as long as the
person still holds the desk.

The chat platform's link previews fetch what is posted; so opening a link (GET) only
shows a button, and only the button's POST uses it (handlers/web/console/signin.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.config import Config
from bot.people.staff import COUNTY, StaffDirectory, StaffPerson
from storage import staff_links
from storage.database import Database

INVITE_TTL = timedelta(days=7)
SIGNIN_TTL = timedelta(minutes=15)
TOKEN_BYTES = 32
PATH = "console/in/"  # under the web base URL


class Kind(StrEnum):
    INVITE = "invite"
    SIGNIN = "signin"


TTL = {Kind.INVITE: INVITE_TTL, Kind.SIGNIN: SIGNIN_TTL}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str) -> bool:
    """Worth a database look: the shape of what `new_token` makes (urlsafe base64)."""
    return 30 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@dataclass(frozen=True)
class Link:
    url: str
    kind: Kind
    person: StaffPerson
    desk: str


@dataclass(frozen=True)
class Pending:
    kind: Kind
    desk: str


@dataclass(frozen=True)
class Used:
    """A link that was just used: who signs in, at which desk."""

    staff_id: int
    desk: str
    kind: Kind


class StaffLinks:
    def __init__(
        self, *, config: Config, db: Database, clock: Clock, staff: StaffDirectory
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.staff = staff

    def desk_known(self, desk: str) -> bool:
        return desk == COUNTY or self.config.community(desk) is not None

    def url(self, token: str) -> str:
        return self.config.web.public_url() + PATH + token

    async def invite(self, name: str, desk: str) -> Link:
        """A new person at `desk`, and the invite that signs them in the first time."""
        if not self.desk_known(desk):
            raise ValueError(f"no community {desk!r} in the configuration")
        person = await self.staff.create(name)
        await self.staff.grant(person.id, desk)
        return await self._link(person, desk, Kind.INVITE)

    async def signin(self, person: StaffPerson, desk: str) -> Link:
        """A sign-in link for someone at `desk` (granted when they asked from its chat).

        No grant here: a grant lifts a revocation, and a revocation that lands between the
        ask and the delivery must hold (the link then signs no one in)."""
        return await self._link(person, desk, Kind.SIGNIN)

    async def _link(self, person: StaffPerson, desk: str, kind: Kind) -> Link:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await staff_links.add(
                conn,
                token_hash(token),
                staff_id=person.id,
                desk=desk,
                kind=kind.value,
                now=now,
                expires=now + TTL[kind],
            )
        return Link(self.url(token), kind, person, desk)

    async def peek(self, token: str) -> Pending | None:
        """What the link would sign in to now, without using it (the page with the button)."""
        if not well_formed(token):
            return None
        async with self.db.transaction() as conn:
            row = await staff_links.get(conn, token_hash(token))
        if row is None or row.used_at is not None or row.expires_at <= self.clock.now():
            return None
        return Pending(Kind(row.kind), row.desk)

    async def use(self, token: str) -> Used | None:
        """The person and desk the link signs in, once; None for an unknown, used or
        expired link, or a person who no longer holds the desk."""
        if not well_formed(token):
            return None
        async with self.db.transaction() as conn:
            row = await staff_links.use(conn, token_hash(token), self.clock.now())
        if row is None or row.desk not in await self.staff.desks(row.staff_id):
            return None
        return Used(row.staff_id, row.desk, Kind(row.kind))

    async def void(self, url: str) -> None:
        """A link that never reached its person stops working."""
        token = url.rsplit("/", 1)[-1]
        async with self.db.transaction() as conn:
            await staff_links.use(conn, token_hash(token), self.clock.now())

    async def void_all(self, staff_id: int) -> None:
        async with self.db.transaction() as conn:
            await staff_links.void_for(conn, staff_id, self.clock.now())
