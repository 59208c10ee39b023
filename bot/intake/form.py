"""A report that arrives whole: photos, location, category and note in one filled-in form.

The web page sends what Telegram collects step by step (bot/intake/stepwise.py) in one request. The
rules are the same and come from the same code: photo checks (storage/photo_checks.py,
storage/photo_process.py, storage/photo_gps.py: formats, decoding bombs, orientation,
metadata stripped, EXIF GPS read), routing (bot/domain/routing.py),
the report and its first event and deadline (Dispatcher.create_report), the per-rider limit
on reports an hour. A draft row is written and closed in the same transaction as the report,
so the report has its draft (reports.draft_id) exactly as a Telegram one does.

Duplicates as in Telegram (bot/intake/duplicates.py): a form whose category and place match an open
report is not filed but answered with that report (Offered), and the page asks the rider.
The rider's answer comes back as the same form again, with `join` (+1: they follow that
report, as Telegram's join does, and no report is made) or `separate` (file it anyway).
Nothing is kept in between: the page still holds the form, so nothing can be half-done.

Idempotent by the key the phone makes for each filled-in form: the same key again (a double
tap, a POST retried by a flaky mobile network) finds what the first one did, the report or
the +1, never makes another. The card is put in the outbox with the report, and delivered
by the outbox's worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.casework.dispatch import Dispatcher
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import TELEGRAM
from bot.domain.geo import LatLon, valid_latlon
from bot.domain.routing import Router
from bot.intake.duplicates import Join, Nearby, join_report, nearest_open_report
from bot.intake.limits import RiderLimits, Verdict
from bot.intake.serial import OneAtATime
from bot.people.riders import RiderCtx
from storage import accounts, drafts, riders
from storage import reports as report_rows
from storage.database import Database
from storage.photo_checks import PhotoRejected
from storage.photo_process import ProcessedPhoto
from storage.photos import PhotoStore
from storage.records import Draft, Report, Rider

log = logging.getLogger(__name__)

NOTE_MAX = 1000
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
LOCATION_SOURCES = ("gps", "map", "exif")  # the phone's fix, a spot picked on the map, a photo's
RIDER_NAME = "骑手"  # riders are anonymous toward staff (cards show 骑手 #0012)


class Refused(Exception):
    """The form cannot be filed as sent; `key` names the text that tells the rider why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class FormPhoto:
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class ReportForm:
    """What the rider filled in. `point` is WGS-84 (the page converts what it shows)."""

    key: str
    category: str
    photos: tuple[FormPhoto, ...]
    point: LatLon | None = None
    location_source: str = "gps"
    note: str = ""
    language: str | None = None
    join: int | None = None  # +1 to this report, which was offered for this form
    separate: bool = False  # the rider said the offered report is a different problem


@dataclass(frozen=True)
class Filed:
    report: Report
    rider: Rider
    replayed: bool  # this key had already filed it


@dataclass(frozen=True)
class Offered:
    """Not filed: an open report of the same category is this close. Same problem?"""

    similar: Nearby


@dataclass(frozen=True)
class Joined:
    """+1: the rider follows `report` from now on; no report was made."""

    report: Report
    rider: Rider
    replayed: bool


FormResult = Filed | Offered | Joined


@dataclass
class FormIntake:
    config: Config
    db: Database
    photos: PhotoStore
    router: Router
    dispatcher: Dispatcher
    clock: Clock
    limits: RiderLimits  # the same counts as Telegram's (bot/intake/limits.py)
    _busy: OneAtATime = field(default_factory=OneAtATime, init=False, repr=False)

    async def rider(self, channel: str, external_id: str) -> Rider | None:
        """The rider behind a channel account, None before its first report."""
        async with self.db.transaction() as conn:
            return await riders.by_account(conn, channel, external_id)

    async def submit(self, channel: str, external_id: str, form: ReportForm) -> FormResult:
        """File the form as a report, offer a similar one, or join it (+1); or find what this
        key did before. Raises Refused. One account's forms one at a time (bot/intake/serial.py).
        """
        if not KEY_PATTERN.fullmatch(form.key):
            raise Refused("form.bad_key")
        async with self._busy.hold((channel, external_id)):
            return await self._submit(channel, external_id, form)

    async def _submit(self, channel: str, external_id: str, form: ReportForm) -> FormResult:
        rider = await self.rider(channel, external_id)
        if rider is not None and (earlier := await self._earlier(rider, form.key)) is not None:
            return earlier
        category = self.config.category(form.category)
        if category is None:
            raise Refused("form.unknown_category")
        self._check_shape(form)
        if (offer := await self._offer(form, category.code, form.point)) is not None:
            return offer
        if form.join is None:
            self._check_report_limit(rider)
        else:
            self._check_pace(channel, external_id)
        checked = [await self._check_photo(photo) for photo in form.photos]
        point, source = self._where(form, checked)
        if form.point is None and (offer := await self._offer(form, category.code, point)):
            return offer  # the place a photo was taken
        if form.join is not None:
            # +1 only to the report this form is offered now (as Telegram's join): a forged
            # number naming any other ticket would let anyone follow any report.
            similar = await self._similar(category.code, point)
            if similar is None or similar.report.id != form.join:
                raise Refused("form.join_stale")
        made = (channel, external_id, form, checked, point, source)
        try:
            done = await self._make(rider, *made)
        except IntegrityError:
            # Another request raced this one and won: with the same key, what it did is what
            # this one does; from the same new device, it made the rider, who is this one.
            rider = await self.rider(channel, external_id)
            if rider is None:
                raise
            if (earlier := await self._earlier(rider, form.key)) is not None:
                return earlier
            done = await self._make(rider, *made)
        if isinstance(done, Filed):
            self.limits.reports.record(report_limit_key(done.rider))
        log.info(
            "form report joined" if isinstance(done, Joined) else "form report filed",
            extra={"report": done.report.id, "rider": done.rider.id, "channel": channel},
        )
        return done

    async def _earlier(self, rider: Rider, key: str) -> Filed | Joined | None:
        """What this key did before: the report it filed, or the one it joined."""
        async with self.db.transaction() as conn:
            draft = await drafts.by_submission(conn, rider.id, key)
            if draft is None:
                return None
            if draft.status == "joined":
                joined = await drafts.joined_report(conn, draft.id)
                report = await report_rows.get(conn, joined) if joined else None
                return Joined(report, rider, replayed=True) if report else None
            report = await report_rows.by_draft(conn, draft.id)
        return Filed(report, rider, replayed=True) if report else None

    async def _offer(
        self, form: ReportForm, category: str, point: LatLon | None
    ) -> Offered | None:
        """Same problem as an open report nearby? Asked unless the rider already answered."""
        if form.join is not None or form.separate or point is None:
            return None
        similar = await self._similar(category, point)
        return Offered(similar) if similar else None

    async def _similar(self, category: str, point: LatLon) -> Nearby | None:
        return await nearest_open_report(self.db, self.config, category, point, self.clock.now())

    def _check_pace(self, channel: str, external_id: str) -> None:
        """A +1 is one of the rider's messages (a press, in Telegram): as many a minute."""
        if (free := self.limits.pace((channel, external_id), self.tz)) is not None:
            raise Refused("form.too_fast", time=free)

    def _check_report_limit(self, rider: Rider | None) -> None:
        if rider is None:
            return
        person = report_limit_key(rider)
        if self.limits.reports.check(person) is not Verdict.ALLOW:
            free = self.limits.reports_free(person, self.tz)
            raise Refused("form.too_many", count=self.limits.reports.limit, time=free)

    @property
    def tz(self) -> ZoneInfo:
        return self.config.timezone

    def _check_shape(self, form: ReportForm) -> None:
        if not form.photos:
            raise Refused("form.no_photo")
        if len(form.photos) > self.config.max_photos:
            raise Refused("form.too_many_photos", limit=self.config.max_photos)
        for photo in form.photos:
            if not (photo.content_type or "").startswith("image/"):
                raise Refused("form.not_image")
            if len(photo.data) > self.config.max_photo_bytes:
                limit = self.config.max_photo_bytes // (1024 * 1024)
                raise Refused("form.photo_too_large", limit=limit)
        if form.point is not None and not valid_latlon(form.point.lat, form.point.lon):
            raise Refused("form.bad_location")
        if form.location_source not in LOCATION_SOURCES:
            raise Refused("form.bad_location")

    async def _check_photo(self, photo: FormPhoto) -> ProcessedPhoto:
        """Checked, not yet stored: a form refused or offered after this keeps nothing."""
        try:
            return await self.photos.process(photo.data)
        except PhotoRejected as exc:
            log.info("form photo rejected", extra={"reason": exc.reason})
            raise Refused(f"form.rejected.{exc.reason}") from None

    def _where(self, form: ReportForm, photos: list[ProcessedPhoto]) -> tuple[LatLon, str]:
        """The rider's point; else where a gallery photo says it was taken."""
        if form.point is not None:
            return form.point, form.location_source
        for photo in photos:
            if photo.gps and valid_latlon(*photo.gps):
                return LatLon(*photo.gps), "exif"
        raise Refused("form.no_location")

    async def _make(
        self,
        rider: Rider | None,
        channel: str,
        external_id: str,
        form: ReportForm,
        checked: list[ProcessedPhoto],
        point: LatLon,
        source: str,
    ) -> Filed | Joined:
        """The draft (closed as it is made), and the report it files or the one it joins.
        The photos are written now, just before the rows that name them."""
        stored = [await self.photos.keep(photo) for photo in checked]
        category = self.config.category(form.category)
        assert category is not None
        route = self.router.route(point, category.code)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            rider, draft = await self._draft(conn, rider, channel, external_id, form)
            for photo in stored:
                await drafts.save_photo(
                    conn, photo.sha256, photo.width, photo.height, photo.size, now
                )
                await drafts.add_photo(conn, draft.id, photo.sha256, None, now)
            draft = await drafts.update_fields(
                conn,
                draft.id,
                now,
                submission_key=form.key,
                lat=point.lat,
                lon=point.lon,
                location_source=source,
                category=category.code,
                note=form.note.strip()[:NOTE_MAX] or None,
                not_duplicate=form.separate,
            )
            if form.join is not None:
                return await self._join(conn, rider, draft, form.join)
            await drafts.close(conn, draft.id, "submitted", now)
            ctx = RiderCtx(rider, form.language or self.config.language)
            report = await self.dispatcher.create_report(conn, ctx, draft, category, route)
            # The card leaves through the outbox, committed with the report (the page shows
            # the ticket: a web rider needs no ticket message).
            await self.dispatcher.put_card(conn, report)
        return Filed(report, rider, replayed=False)

    async def _draft(
        self,
        conn: AsyncConnection,
        rider: Rider | None,
        channel: str,
        external_id: str,
        form: ReportForm,
    ) -> tuple[Rider, Draft]:
        now = self.clock.now()
        if rider is None:
            rider = await accounts.create_rider(
                conn, channel, external_id, RIDER_NAME, form.language, now
            )
        elif form.language and form.language != rider.language:
            rider = await riders.set_fields(conn, rider.id, language=form.language)
        return rider, await drafts.create(conn, rider.id, now)

    async def _join(
        self, conn: AsyncConnection, rider: Rider, draft: Draft, report_id: int
    ) -> Joined:
        """+1 to the report offered for this form (submit checked which)."""
        result, report = await join_report(
            conn, self.dispatcher, draft, rider.id, report_id, self.clock.now()
        )
        if result is not Join.JOINED or report is None:
            raise Refused("form.join_stale")  # closed meanwhile: nothing is kept
        return Joined(report, rider, replayed=False)


def report_limit_key(rider: Rider) -> Hashable:
    """Whom the reports-per-hour limit counts: a rider linked to Telegram shares Telegram's
    count (kept by Telegram user id); a web-only rider has one of their own."""
    telegram = rider.account(TELEGRAM)
    return int(telegram) if telegram is not None else ("rider", rider.id)
