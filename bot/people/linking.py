"""One person, two channels: a rider who reports on the web page and in Telegram links them.

In Telegram, /link gives a short one-time code, valid 10 minutes. Typed on the web page, it
makes the device an account of that Telegram rider: the device's earlier reports, +1s and
points move to them (storage/linking.py), and from then on its reports are theirs.

Why the web device joins the Telegram rider, not the other way round: the Telegram rider is
the one who can be messaged (notices reach their chat, and the page shows everything from the
database anyway), their Telegram user id is fixed to their row, and a device is just another
account (rider_accounts) — so the merge only moves rows that point at the device's rider.

Codes are 8 characters from an alphabet without look-alikes (0/O, 1/I/L), about 40 bits,
kept only as a hash; a device may try a few a minute, and a code works once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot import texts
from bot.casework.dispatch import Dispatcher
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import TELEGRAM
from bot.intake.limits import SlidingLimit, Verdict
from bot.messages import Answer, Outcome, say
from bot.people.riders import RiderCtx
from storage import accounts, riders
from storage import linking as rows
from storage.database import Database
from storage.records import Rider

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TRIES_PER_MINUTE = 5
RIDER_NAME = "骑手"  # as a rider made by the form (bot/intake/form.py)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def normalize(typed: str) -> str | None:
    """What a person types ("abcd-efgh", "ABCD EFGH") as the code, or None if it cannot be one."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def _device_key(external_id: str) -> int:
    return int.from_bytes(hashlib.sha256(external_id.encode()).digest()[:8], "big")


class Linking:
    def __init__(
        self, *, config: Config, db: Database, clock: Clock, dispatcher: Dispatcher
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.cards = dispatcher
        self._tries = SlidingLimit(TRIES_PER_MINUTE, timedelta(minutes=1), clock)

    # ---- accounts on channels other than Telegram -----------------------------------------

    async def rider_of(self, channel: str, external_id: str) -> Rider | None:
        async with self.db.transaction() as conn:
            return await riders.by_account(conn, channel, external_id)

    async def ensure_rider(self, channel: str, external_id: str, language: str) -> Rider:
        """The account's rider, made now if it has none yet (报到 before a first report)."""
        for _ in range(2):
            if (rider := await self.rider_of(channel, external_id)) is not None:
                return rider
            try:
                async with self.db.transaction() as conn:
                    return await accounts.create_rider(
                        conn, channel, external_id, RIDER_NAME, language, self.clock.now()
                    )
            except IntegrityError:  # the same device's other request made it first
                continue
        raise RuntimeError("the account's rider could not be made")

    # ---- the code -------------------------------------------------------------------------

    async def new_code(self, ctx: RiderCtx) -> Outcome:
        """/link: a fresh code for this rider (their earlier one stops working)."""
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await rows.add_code(conn, _hash(code), ctx.rider.id, now, now + CODE_TTL)
        shown = f"{code[:4]}-{code[4:]}"
        minutes = int(CODE_TTL.total_seconds() // 60)
        url = f"{self.config.web.public_url()}me"
        return say(texts.t(ctx.lang, "link.code", code=shown, minutes=minutes, url=url))

    async def redeem(self, channel: str, external_id: str, typed: str) -> Answer:
        """The code typed on a device: the device joins the code's rider."""
        if self._tries.hit(_device_key(external_id)) is not Verdict.ALLOW:
            return Answer(False, "link.too_many")
        code = normalize(typed)
        if code is None:
            return Answer(False, "link.bad_code")
        try:
            return await self._join(channel, external_id, code)
        except _Refusal as refusal:  # rolled back: the code still works for its own rider
            return Answer(False, refusal.key)

    async def _join(self, channel: str, external_id: str, code: str) -> Answer:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            here = await riders.by_account(conn, channel, external_id)
            owner_id = await rows.use_code(conn, _hash(code), now)
            owner = await riders.get(conn, owner_id) if owner_id is not None else None
            if owner is None:
                return Answer(False, "link.unknown_code")
            if here is not None and here.id == owner.id:
                return Answer(True, "link.already")
            if here is not None and here.account(TELEGRAM) is not None:
                # Two Telegram accounts are two people as far as we can tell: never merged.
                raise _Refusal("link.other_telegram")
            if here is None:
                await rows.add_account(conn, channel, external_id, owner.id, now)
                moved: list[int] = []
            else:
                moved = await rows.merge(conn, here.id, owner.id)
            for report_id in moved:  # the cards name the rider: redraw them
                await self.cards.refresh(report_id, conn)
        log.info(
            "accounts linked",
            extra={"rider": owner.id, "channel": channel, "reports_moved": len(moved)},
        )
        return Answer(True, "link.done", {"count": len(moved)})


class _Refusal(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
