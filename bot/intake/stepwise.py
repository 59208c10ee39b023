"""A rider's report, from the first photo to the ticket number.

The draft lives in the database and is filled in any order: photos, a location, a
category and an optional note. After each input the rider is asked only for what is
still missing; once everything is there they see a summary with Submit / Edit / Cancel.
Submitting is idempotent: a draft becomes at most one report, however often Submit is
pressed.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.callbacks import Callback
from bot.casework.dispatch import Dispatcher
from bot.casework.rider_notices import address
from bot.clock import Clock
from bot.config import Config
from bot.domain.geo import LatLon, valid_latlon
from bot.domain.numbers import MAX_ID, parse_positive_int
from bot.domain.routing import Router
from bot.intake.duplicates import Join, join_report
from bot.intake.photo_input import FetchError, PhotoInput
from bot.intake.questions import DraftQuestions, draft_point, edit_buttons, is_complete
from bot.intake.tickets import Tickets
from bot.messages import Outcome, Reply, say
from bot.people.riders import RiderCtx
from storage import drafts, riders
from storage import reports as report_rows
from storage.database import Database
from storage.photo_checks import PhotoRejected
from storage.photos import PhotoStore
from storage.records import Draft

log = logging.getLogger(__name__)

NOTE_MAX = 1000


class Intake:
    """The chat intake: each input fills the rider's open draft, then the next question
    (bot/intake/questions.py) is asked; the draft's buttons submit, edit, join or cancel."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        photos: PhotoStore,
        router: Router,
        dispatcher: Dispatcher,
        tickets: Tickets,
        clock: Clock,
    ) -> None:
        self.config = config
        self.db = db
        self.photos = photos
        self.router = router
        self.dispatcher = dispatcher
        self.tickets = tickets
        self.clock = clock
        self.questions = DraftQuestions(
            config=config, db=db, router=router, dispatcher=dispatcher, clock=clock
        )

    # ---- inputs -------------------------------------------------------------------

    async def add_photo(self, ctx: RiderCtx, photo: PhotoInput) -> Outcome:
        """Keep one photo in the draft; album items are acknowledged together later."""
        lang = ctx.lang
        if photo.forwarded:
            return say(texts.t(lang, "photo.forwarded"))
        if photo.as_file and not (photo.mime_type or "").startswith("image/"):
            return say(texts.t(lang, "photo.not_image"))
        if photo.size is not None and photo.size > self.config.max_photo_bytes:
            return say(
                texts.t(
                    lang, "photo.too_large", limit=self.config.max_photo_bytes // (1024 * 1024)
                )
            )
        async with self.db.transaction() as conn:
            draft = await self._draft(conn, ctx)
            if len(draft.photos) >= self.config.max_photos:
                await drafts.update_fields(
                    conn, draft.id, self.clock.now(), photos_dropped=draft.photos_dropped + 1
                )
                await self._keep_caption(conn, draft, photo)
                if photo.media_group_id:
                    return Outcome()
                return say(texts.t(lang, "photo.limit", limit=self.config.max_photos))
        try:
            data = await photo.fetch()
        except FetchError as exc:
            log.warning("photo download failed", extra={"reason": str(exc)})
            await self._caption_only(ctx, photo)
            return say(texts.t(lang, "photo.fetch_failed"))
        try:
            stored = await self.photos.save(data)
        except PhotoRejected as exc:
            log.info("photo rejected", extra={"reason": exc.reason, "rider": ctx.rider.id})
            await self._caption_only(ctx, photo)
            return say(texts.t(lang, f"photo.rejected.{exc.reason}"))
        now = self.clock.now()
        notice = None
        async with self.db.transaction() as conn:
            draft = await self._draft(conn, ctx)
            await drafts.save_photo(
                conn, stored.sha256, stored.width, stored.height, stored.size, now
            )
            await drafts.add_photo(conn, draft.id, stored.sha256, photo.media_group_id, now)
            values: dict[str, object] = {}
            if photo.caption and photo.caption.strip():
                values["note"] = _append(draft.note, photo.caption)
            if stored.gps and draft.lat is None and valid_latlon(*stored.gps):
                values.update(lat=stored.gps[0], lon=stored.gps[1], location_source="exif")
                notice = texts.t(lang, "location.from_photo")
            draft = await drafts.update_fields(conn, draft.id, now, **values)
        if photo.media_group_id:
            return Outcome()
        return Outcome(replies=(await self.questions.prompt(ctx, draft, notice),))

    async def _keep_caption(self, conn: AsyncConnection, draft: Draft, photo: PhotoInput) -> None:
        if photo.caption and photo.caption.strip():
            await drafts.update_fields(
                conn, draft.id, self.clock.now(), note=_append(draft.note, photo.caption)
            )

    async def _caption_only(self, ctx: RiderCtx, photo: PhotoInput) -> None:
        """The photo could not be kept, but the rider's words are."""
        if photo.caption and photo.caption.strip():
            async with self.db.transaction() as conn:
                await self._keep_caption(conn, await self._draft(conn, ctx), photo)

    async def album_done(self, ctx: RiderCtx) -> Outcome:
        """After the last photo of an album: one answer for the whole album."""
        async with self.db.transaction() as conn:
            draft = await drafts.open_for(conn, ctx.rider.id)
        if draft is None:
            return Outcome()
        return Outcome(replies=(await self.questions.prompt(ctx, draft),))

    async def set_location(self, ctx: RiderCtx, point: LatLon) -> Outcome:
        if not valid_latlon(point.lat, point.lon):
            return say(texts.t(ctx.lang, "location.invalid"))
        async with self.db.transaction() as conn:
            draft = await self._draft(conn, ctx)
            draft = await drafts.update_fields(
                conn,
                draft.id,
                self.clock.now(),
                lat=point.lat,
                lon=point.lon,
                location_source="shared",
            )
        return Outcome(
            replies=(
                await self.questions.prompt(ctx, draft, texts.t(ctx.lang, "location.received")),
            )
        )

    async def add_note(self, ctx: RiderCtx, text: str, *, replace: bool = False) -> Outcome:
        """Plain text is kept as the note: it is never thrown away."""
        async with self.db.transaction() as conn:
            draft = await self._draft(conn, ctx)
            if replace and text.strip() in ("无", "-", "none", "None"):
                note = None
            else:
                note = text.strip()[:NOTE_MAX] if replace else _append(draft.note, text)
            draft = await drafts.update_fields(conn, draft.id, self.clock.now(), note=note)
            if ctx.rider.awaiting == "note":
                await riders.set_fields(conn, ctx.rider.id, awaiting=None)
        key = "note.saved" if draft.photos or replace else "note.saved_need_photo"
        return Outcome(replies=(await self.questions.prompt(ctx, draft, texts.t(ctx.lang, key)),))

    async def start_report(self, ctx: RiderCtx) -> Outcome:
        async with self.db.transaction() as conn:
            draft = await self._draft(conn, ctx)
        return Outcome(replies=(await self.questions.prompt(ctx, draft),))

    async def cancel(self, ctx: RiderCtx) -> Outcome:
        async with self.db.transaction() as conn:
            draft = await drafts.open_for(conn, ctx.rider.id)
            if ctx.rider.awaiting:
                await riders.set_fields(conn, ctx.rider.id, awaiting=None)
            if draft is None:
                return Outcome(
                    replies=(Reply(texts.t(ctx.lang, "cancel.nothing"), remove_keyboard=True),)
                )
            await drafts.close(conn, draft.id, "cancelled", self.clock.now())
        return Outcome(replies=(Reply(texts.t(ctx.lang, "cancel.done"), remove_keyboard=True),))

    # ---- buttons ------------------------------------------------------------------

    async def press(self, ctx: RiderCtx, cb: Callback) -> Outcome:
        """A button on a draft message. Buttons of someone else's or a closed draft are stale."""
        lang = ctx.lang
        async with self.db.transaction() as conn:
            draft = await drafts.get(conn, cb.target)
        if draft is None or draft.rider_id != ctx.rider.id:
            return Outcome(toast=texts.t(lang, "button.stale"), alert=True)
        if cb.action == "submit":
            return await self.submit(ctx, draft)
        if draft.status != drafts.OPEN:
            return await self._closed_draft(ctx, draft)
        if cb.action == "cancel":
            async with self.db.transaction() as conn:
                await drafts.close(conn, draft.id, "cancelled", self.clock.now())
            return Outcome(edit=Reply(texts.t(lang, "cancel.done")))
        if cb.action == "cat" and self.config.category(cb.arg or ""):
            async with self.db.transaction() as conn:
                draft = await drafts.update_fields(
                    conn, draft.id, self.clock.now(), category=cb.arg
                )
            return await self._step(ctx, draft)
        if cb.action == "edit":
            return Outcome(
                edit=Reply(self.questions.summary_text(ctx, draft), edit_buttons(lang, draft.id))
            )
        if cb.action == "back":
            return await self._step(ctx, draft)
        if cb.action == "join" and (report_id := parse_positive_int(cb.arg, MAX_ID)):
            return await self.join(ctx, draft, report_id)
        if cb.action == "sep":
            async with self.db.transaction() as conn:
                draft = await drafts.update_fields(
                    conn, draft.id, self.clock.now(), not_duplicate=True
                )
            return await self._step(ctx, draft)
        if cb.action == "e" and cb.arg in ("photo", "loc", "cat", "note"):
            return await self._edit_field(ctx, draft, cb.arg)
        return Outcome(toast=texts.t(lang, "button.stale"), alert=True)

    async def _edit_field(self, ctx: RiderCtx, draft: Draft, field: str) -> Outcome:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if field == "photo":
                await drafts.clear_photos(conn, draft.id, now)
                draft = await drafts.update_fields(conn, draft.id, now)
            elif field == "loc":
                draft = await drafts.update_fields(
                    conn, draft.id, now, lat=None, lon=None, location_source=None
                )
            elif field == "cat":
                draft = await drafts.update_fields(conn, draft.id, now, category=None)
            else:
                await riders.set_fields(conn, ctx.rider.id, awaiting="note")
                return Outcome(edit=Reply(texts.t(ctx.lang, "note.ask")))
        return await self._step(ctx, draft)

    async def _step(self, ctx: RiderCtx, draft: Draft) -> Outcome:
        """Answer a button press with the next question, in place when a keyboard allows."""
        reply = await self.questions.prompt(ctx, draft)
        if reply.ask is None:
            return Outcome(edit=reply)
        return Outcome(edit=Reply(self.questions.summary_text(ctx, draft)), replies=(reply,))

    async def _closed_draft(self, ctx: RiderCtx, draft: Draft) -> Outcome:
        async with self.db.transaction() as conn:
            return await self._closed_draft_in(conn, ctx, draft)

    async def _closed_draft_in(
        self, conn: AsyncConnection, ctx: RiderCtx, draft: Draft
    ) -> Outcome:
        report = await report_rows.by_draft(conn, draft.id)
        if report is not None:
            return Outcome(toast=texts.t(ctx.lang, "submit.already", ticket=report.id), alert=True)
        return Outcome(toast=texts.t(ctx.lang, f"draft.{draft.status}"), alert=True)

    async def submit(self, ctx: RiderCtx, draft: Draft) -> Outcome:
        if draft.status != drafts.OPEN:
            return await self._closed_draft(ctx, draft)
        if not is_complete(draft):
            return Outcome(edit=await self.questions.prompt(ctx, draft))
        category = self.config.category(draft.category or "")
        point = draft_point(draft)
        assert category is not None and point is not None  # is_complete(draft)
        route = self.router.route(point, category.code)
        async with self.db.transaction() as conn:
            if not await drafts.close(conn, draft.id, "submitted", self.clock.now()):
                # Pressed twice: the first press won the race and made the report.
                fresh = await drafts.get(conn, draft.id)
                assert fresh is not None
                return await self._closed_draft_in(conn, ctx, fresh)
            report = await self.dispatcher.create_report(conn, ctx, draft, category, route)
            # The ticket (rider's chat) and the card (the desk's chat) leave side by side:
            # neither waits for the other, and both exist exactly when the report does.
            await self.tickets.put(conn, report, ctx.rider, ctx.lang)
            await self.dispatcher.put_card(conn, report)
        return Outcome(
            edit=Reply(self.questions.summary_text(ctx, draft, submitted=report.id)),
            toast=texts.t(ctx.lang, "submit.toast", ticket=report.id),
            created=report.id,
        )

    async def join(self, ctx: RiderCtx, draft: Draft, report_id: int) -> Outcome:
        """+1: the rider's sighting confirms an open report; they follow it from now on.

        Only the report this draft is offered now can be joined: a crafted button naming
        any other ticket would let anyone follow (and hear about) any report.
        """
        offered = await self.questions.offer(draft)
        if offered is None or offered.id != report_id:
            step = await self._step(ctx, draft)  # show what the draft really asks now
            return dataclasses.replace(step, toast=texts.t(ctx.lang, "button.stale"), alert=True)
        async with self.db.transaction() as conn:
            result, _ = await join_report(
                conn, self.dispatcher, draft, ctx.rider.id, report_id, self.clock.now()
            )
            if result is Join.GONE:
                return Outcome(toast=texts.t(ctx.lang, "duplicate.gone"), alert=True)
            if result is Join.DRAFT_CLOSED:
                fresh = await drafts.get(conn, draft.id)
                assert fresh is not None
                return await self._closed_draft_in(conn, ctx, fresh)
        return Outcome(edit=Reply(texts.t(ctx.lang, "duplicate.joined", ticket=report_id)))

    async def _draft(self, conn: AsyncConnection, ctx: RiderCtx) -> Draft:
        """The rider's open draft; the first input of a new report starts one.

        Reporting ends any registration question left open, so the rider's next words are
        their note, not their new display name.
        """
        if ctx.rider.awaiting in ("display_name", "phone"):
            await riders.set_fields(conn, ctx.rider.id, awaiting=None)
        draft = await drafts.open_for(conn, ctx.rider.id)
        return draft or await drafts.create(conn, ctx.rider.id, self.clock.now())

    # ---- expiry -------------------------------------------------------------------

    async def expire_stale(self) -> int:
        """Close drafts left alone longer than the configured time, and tell their riders."""
        now = self.clock.now()
        expired = 0
        async with self.db.transaction() as conn:
            for draft in await drafts.stale(conn, now - self.config.draft_ttl):
                if await drafts.close(conn, draft.id, "expired", now):
                    rider = await riders.get(conn, draft.rider_id)
                    if rider is None:
                        continue
                    lang = texts.pick_language(rider.language, None, self.config.language)
                    minutes = int(self.config.draft_ttl.total_seconds() // 60)
                    to = address(rider)
                    await self.dispatcher.outbox.message(
                        conn,
                        to.chat,
                        Reply(
                            texts.t(lang, "draft.expired_notice", minutes=minutes),
                            remove_keyboard=True,
                        ),
                        channel=to.channel,
                    )
                    expired += 1
        return expired


def _append(note: str | None, text: str) -> str:
    text = text.strip()
    return (f"{note}\n{text}" if note else text)[:NOTE_MAX]
