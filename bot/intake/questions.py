"""What the chat asks a rider next about their draft, and the summary they confirm.

A draft is filled in any order, so after every input the same question is asked: what is
still missing? The answer is one message: ask for a photo, a location (with the share
button) or a category (one button each), offer an open report nearby to join (+1), or,
once everything is there, the summary with Submit / Edit / Cancel. The buttons' answers
are handled by Intake (bot/intake/stepwise.py).
"""

from __future__ import annotations

from bot import callbacks, texts
from bot.casework.dispatch import Dispatcher
from bot.clock import Clock
from bot.config import Config
from bot.domain.geo import LatLon
from bot.domain.routing import Route, Router
from bot.intake.duplicates import similar_open_report
from bot.messages import AskFor, Button, Reply
from bot.people.riders import RiderCtx
from storage.database import Database
from storage.records import Draft, Report


class DraftQuestions:
    """Builds the next question (or the summary) for a draft; changes nothing."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        router: Router,
        dispatcher: Dispatcher,
        clock: Clock,
    ) -> None:
        self.config = config
        self.db = db
        self.router = router
        self.dispatcher = dispatcher
        self.clock = clock

    async def prompt(self, ctx: RiderCtx, draft: Draft, notice: str | None = None) -> Reply:
        """The one question the rider should answer next (or the summary when done)."""
        lang = ctx.lang
        head = [notice] if notice else []
        if draft.photos:
            head.append(texts.t(lang, "draft.photos_count", count=len(draft.photos)))
        if draft.photos_dropped:
            head.append(texts.t(lang, "photo.limit", limit=self.config.max_photos))
        if not draft.photos:
            return Reply("\n".join([*head, texts.t(lang, "ask.photo")]))
        if draft.lat is None:
            return Reply(
                "\n".join([*head, texts.t(lang, "ask.location")]),
                ask=AskFor("location", texts.t(lang, "button.send_location")),
            )
        if draft.category is None:
            return Reply(
                "\n".join([*head, texts.t(lang, "ask.category")]),
                buttons=self._category_buttons(ctx, draft.id),
            )
        similar = await self.offer(draft)
        if similar is not None:
            return self._duplicate_question(ctx, draft, similar)
        return Reply(self.summary_text(ctx, draft), _summary_buttons(lang, draft.id))

    async def offer(self, draft: Draft) -> Report | None:
        """The open report this draft is offered to join (+1), if any: one at a time."""
        point = draft_point(draft)
        if draft.not_duplicate or draft.category is None or point is None:
            return None
        return await similar_open_report(
            self.db, self.config, draft.category, point, self.clock.now()
        )

    def _duplicate_question(self, ctx: RiderCtx, draft: Draft, similar: Report) -> Reply:
        lang = ctx.lang
        icon, name = self.config.category_label(similar.category, lang)
        text = texts.t(
            lang,
            "duplicate.question",
            ticket=similar.id,
            icon=icon,
            category=name,
            status=texts.t(lang, f"status.{similar.status}"),
            when=self.dispatcher.format_when(similar.created_at, lang),
        )
        buttons = (
            (
                Button(
                    texts.t(lang, "button.join", ticket=similar.id),
                    callbacks.encode("d", draft.id, "join", str(similar.id)),
                ),
            ),
            (Button(texts.t(lang, "button.not_same"), callbacks.encode("d", draft.id, "sep")),),
        )
        return Reply(text, buttons)

    def _category_buttons(self, ctx: RiderCtx, draft_id: int) -> tuple[tuple[Button, ...], ...]:
        return tuple(
            (
                Button(
                    f"{c.icon} {c.name(ctx.lang)}".strip(),
                    callbacks.encode("d", draft_id, "cat", c.code),
                ),
            )
            for c in self.config.categories
        )

    def summary_text(self, ctx: RiderCtx, draft: Draft, submitted: int | None = None) -> str:
        """What the draft holds so far; with ``submitted``, the same as the report's receipt."""
        lang = ctx.lang
        lines = [
            texts.t(lang, "summary.submitted", ticket=submitted)
            if submitted
            else texts.t(lang, "summary.title")
        ]
        category = self.config.category(draft.category or "")
        if category:
            lines.append(
                texts.t(lang, "summary.category", icon=category.icon, name=category.name(lang))
            )
        if draft.lat is not None and draft.lon is not None:
            source = texts.t(lang, f"summary.source_{draft.location_source or 'shared'}")
            lines.append(
                texts.t(
                    lang,
                    "summary.location",
                    lat=f"{draft.lat:.5f}",
                    lon=f"{draft.lon:.5f}",
                    source=source,
                )
            )
            if category and not submitted:
                lines.append(
                    self._route_line(
                        lang, self.router.route(LatLon(draft.lat, draft.lon), category.code)
                    )
                )
        lines.append(texts.t(lang, "summary.photos", count=len(draft.photos)))
        if draft.note:
            lines.append(texts.t(lang, "summary.note", note=draft.note))
        return "\n".join(lines)

    def _route_line(self, lang: str, route: Route) -> texts.Html:
        community = self.config.community(route.community_id)
        if community:
            return texts.t(lang, "summary.route", community=community.name)
        return texts.t(lang, "summary.route_none", supervisors=self.config.supervisors.name)


def is_complete(draft: Draft) -> bool:
    """Whether the draft has all a report needs (a note is optional)."""
    return bool(draft.photos) and draft.lat is not None and draft.category is not None


def draft_point(draft: Draft) -> LatLon | None:
    """Where the hazard is, once the rider has said (latitude and longitude come together)."""
    if draft.lat is None or draft.lon is None:
        return None
    return LatLon(draft.lat, draft.lon)


def _summary_buttons(lang: str, draft_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(texts.t(lang, "button.submit"), callbacks.encode("d", draft_id, "submit")),),
        (
            Button(texts.t(lang, "button.edit"), callbacks.encode("d", draft_id, "edit")),
            Button(texts.t(lang, "button.cancel"), callbacks.encode("d", draft_id, "cancel")),
        ),
    )


def edit_buttons(lang: str, draft_id: int) -> tuple[tuple[Button, ...], ...]:
    """Edit on the summary: which part to change, or back to the summary."""

    def b(key: str, field: str) -> Button:
        return Button(texts.t(lang, key), callbacks.encode("d", draft_id, "e", field))

    return (
        (b("button.edit_photo", "photo"), b("button.edit_location", "loc")),
        (b("button.edit_category", "cat"), b("button.edit_note", "note")),
        (Button(texts.t(lang, "button.back"), callbacks.encode("d", draft_id, "back")),),
    )
