"""A report that arrives whole: photos, location, category and note in one filled-in form.

The web page sends what Telegram collects step by step (bot/intake/stepwise.py) in one request. The
rules are the same and come from the same code: photo checks (storage/photos.py: formats,
decoding bombs, orientation, metadata stripped, EXIF GPS read), routing (bot/domain/routing.py),
the report and its first event and deadline (Dispatcher.create_report), the per-rider limit
on reports an hour. A draft row is written and closed in the same transaction as the report,
so the report has its draft (reports.draft_id) exactly as a Telegram one does.

Idempotent by the key the phone makes for each filled-in form: the same key again (a double
tap, a POST retried by a flaky mobile network) finds the first report, never makes another.
The card is put in the outbox with the report, and delivered by the outbox's worker.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.casework.dispatch import Dispatcher
from bot.clock import Clock
from bot.config import Config
from bot.domain.geo import LatLon, valid_latlon
from bot.domain.routing import Router
from bot.intake.limits import SlidingLimit, Verdict
from bot.people.riders import RiderCtx
from storage import accounts, drafts, riders
from storage import reports as report_rows
from storage.database import Database
from storage.photos import PhotoRejected, PhotoStore, StoredPhoto
from storage.records import Report, Rider

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


@dataclass(frozen=True)
class Filed:
    report: Report
    rider: Rider
    replayed: bool  # this key had already filed it


@dataclass
class FormIntake:
    config: Config
    db: Database
    photos: PhotoStore
    router: Router
    dispatcher: Dispatcher
    clock: Clock
    _limit: SlidingLimit = field(init=False)

    def __post_init__(self) -> None:
        self._limit = SlidingLimit(
            self.config.limits.reports_per_hour, timedelta(hours=1), self.clock
        )

    async def rider(self, channel: str, external_id: str) -> Rider | None:
        """The rider behind a channel account, None before its first report."""
        async with self.db.transaction() as conn:
            return await accounts.rider_for(conn, channel, external_id)

    async def submit(self, channel: str, external_id: str, form: ReportForm) -> Filed:
        """File the form as a report (or find the one this key filed). Raises Refused."""
        if not KEY_PATTERN.fullmatch(form.key):
            raise Refused("form.bad_key")
        rider = await self.rider(channel, external_id)
        if rider is not None and (earlier := await self._filed(rider, form.key)) is not None:
            return earlier
        category = self.config.category(form.category)
        if category is None:
            raise Refused("form.unknown_category")
        self._check_shape(form)
        if rider is not None and self._limit.check(rider.id) is not Verdict.ALLOW:
            free = self._limit.free_at(rider.id).astimezone(self.config.timezone)
            raise Refused("form.too_many", count=self._limit.limit, time=f"{free:%H:%M}")
        stored = [await self._keep(photo) for photo in form.photos]
        point, source = self._where(form, stored)
        try:
            filed = await self._file(channel, external_id, rider, form, stored, point, source)
        except IntegrityError:
            # Another request raced this one and won: with the same key, its report is this
            # one; from the same new device, it made the rider, and this report is theirs too.
            rider = await self.rider(channel, external_id)
            if rider is None:
                raise
            if (earlier := await self._filed(rider, form.key)) is not None:
                return earlier
            filed = await self._file(channel, external_id, rider, form, stored, point, source)
        self._limit.record(filed.rider.id)
        log.info(
            "form report filed",
            extra={"report": filed.report.id, "rider": filed.rider.id, "channel": channel},
        )
        return filed

    async def _filed(self, rider: Rider, key: str) -> Filed | None:
        async with self.db.transaction() as conn:
            draft = await drafts.by_submission(conn, rider.id, key)
            report = await report_rows.by_draft(conn, draft.id) if draft else None
        return Filed(report, rider, replayed=True) if report else None

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

    async def _keep(self, photo: FormPhoto) -> StoredPhoto:
        try:
            return await self.photos.save(photo.data)
        except PhotoRejected as exc:
            log.info("form photo rejected", extra={"reason": exc.reason})
            raise Refused(f"form.rejected.{exc.reason}") from None

    def _where(self, form: ReportForm, stored: list[StoredPhoto]) -> tuple[LatLon, str]:
        """The rider's point; else where a gallery photo says it was taken."""
        if form.point is not None:
            return form.point, form.location_source
        for photo in stored:
            if photo.gps and valid_latlon(*photo.gps):
                return LatLon(*photo.gps), "exif"
        raise Refused("form.no_location")

    async def _file(
        self,
        channel: str,
        external_id: str,
        rider: Rider | None,
        form: ReportForm,
        stored: list[StoredPhoto],
        point: LatLon,
        source: str,
    ) -> Filed:
        category = self.config.category(form.category)
        assert category is not None
        route = self.router.route(point, category.code)
        now = self.clock.now()
        note = form.note.strip()[:NOTE_MAX] or None
        async with self.db.transaction() as conn:
            if rider is None:
                rider = await accounts.create_rider(
                    conn, channel, external_id, RIDER_NAME, form.language, now
                )
            elif form.language and form.language != rider.language:
                rider = await riders.set_fields(conn, rider.id, language=form.language)
            draft = await drafts.create(conn, rider.id, now)
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
                note=note,
            )
            await drafts.close(conn, draft.id, "submitted", now)
            ctx = RiderCtx(rider, form.language or self.config.language)
            report = await self.dispatcher.create_report(conn, ctx, draft, category, route)
            # The card leaves through the outbox, committed with the report (the page shows
            # the ticket: a web rider needs no ticket message).
            await self.dispatcher.put_card(conn, report)
        return Filed(report, rider, replayed=False)
