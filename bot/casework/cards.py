"""The dispatcher card: how a report looks in the community's chat, and its buttons.

Staff see what, where, when and by when, who handles it and what happened lately; the
rider appears only as an anonymous label (their number and platform), never as their
chat account. The card is edited in place at every step.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import callbacks, texts
from bot.config import Config
from bot.domain.geo import LatLon, amap_url, osm_url
from bot.domain.lifecycle import REJECT_REASONS, Status
from bot.messages import Button, Buttons, Card, Reply
from bot.texts import Html
from bot.texts.formatting import coordinates, duration, when
from storage.records import Report, Rider

PLATFORM_KEYS = ("meituan", "eleme", "sf", "jd", "other")
HISTORY_LINES = 4
SUPERVISORS = "_sup"  # transfer target meaning "the supervisors' queue"


@dataclass(frozen=True)
class CardView:
    """Everything the card shows besides the report row itself."""

    rider: Rider
    history: Sequence[dict[str, Any]] = field(default=())
    confirmations: int = 0


def rider_label(rider: Rider, lang: str) -> str:
    label: str = texts.t(lang, "card.rider", number=f"{rider.id:04d}")
    if rider.platform in PLATFORM_KEYS:
        label += " · " + texts.t(lang, f"platform.{rider.platform}")
    return label


def place_name(config: Config, community_id: str | None, lang: str) -> Html:
    """Who handles it, as HTML ready to be placed into another text."""
    community = config.community(community_id)
    if community:
        return Html(html.escape(community.name, quote=False))
    return Html(texts.t(lang, "card.no_community", supervisors=config.supervisors.name))


def card_text(
    config: Config,
    report: Report,
    view: CardView,
    lang: str,
    *,
    history: bool = True,
    history_lines: int = HISTORY_LINES,
) -> str:
    """The card's words; `history_lines` fewer than usual names /ticket for the rest."""
    category = config.category(report.category)
    assert category is not None
    point = LatLon(report.lat, report.lon)
    tz = config.timezone
    status = texts.t(lang, f"status.{report.status}")
    if report.handler_name and report.status == Status.ACCEPTED:
        status = Html(
            texts.t(lang, "card.status_handler", status=status, handler=report.handler_name)
        )
    lines: list[str] = [
        texts.t(
            lang,
            "card.title",
            mark=texts.t(lang, f"mark.{report.status}"),
            ticket=report.id,
            icon=category.icon,
            category=category.name(lang),
        ),
        texts.t(lang, "card.status", status=status),
    ]
    if report.overdue_at and report.status not in (Status.CLOSED, Status.REJECTED):
        lines.append(texts.t(lang, "card.overdue"))
    place: str = texts.t(
        lang,
        "card.place",
        place=place_name(config, report.community_id, lang),
        method=texts.t(lang, f"card.route_{report.route_method}"),
    )
    if report.transfer_count:
        place += texts.t(lang, "card.transfers", count=report.transfer_count)
    lines += [
        place,
        texts.t(lang, "card.reported", when=when(report.created_at, tz, lang)),
        texts.t(
            lang,
            "card.deadline",
            when=when(report.deadline_at, tz, lang),
            within=duration(category.deadline, lang),
        ),
        texts.t(
            lang,
            "card.location",
            coords=coordinates(point),
            source=texts.t(lang, f"summary.source_{report.location_source}"),
            osm=Html(_href(osm_url(point))),
            amap=Html(_href(amap_url(point))),
        ),
    ]
    if report.note:
        lines.append(texts.t(lang, "card.note", note=report.note))
    label = rider_label(view.rider, lang)
    if view.confirmations:
        label += texts.t(lang, "card.confirmations", count=view.confirmations)
    lines.append(label)
    if view.rider.unreachable_at is not None:
        lines.append(texts.t(lang, "card.rider_unreachable"))
    recent = [e for e in view.history if e["kind"] in HISTORY_KINDS][-HISTORY_LINES:]
    if recent and history:
        shown = recent[len(recent) - history_lines :] if history_lines else []
        lines.append(texts.t(lang, "card.history"))
        lines += [history_line(config, e, lang) for e in shown]
        if len(shown) < len(recent):
            lines.append(texts.t(lang, "card.history_more", ticket=report.id))
    return "\n".join(lines)


def card_reply(
    config: Config, report: Report, view: CardView, lang: str, buttons: Buttons
) -> Reply:
    """The card as an edit: its words, and shorter versions (fewer history lines, the
    rest behind /ticket) for a card that is a photo's caption, so it stays readable."""
    return Reply(
        card_text(config, report, view, lang),
        buttons,
        shorter=card_shorter(config, report, view, lang),
    )


def card_shorter(config: Config, report: Report, view: CardView, lang: str) -> tuple[str, ...]:
    """The card's words with 3, 2, 1 and no history lines (only when it has history)."""
    if not any(e["kind"] in HISTORY_KINDS for e in view.history):
        return ()
    return tuple(
        card_text(config, report, view, lang, history_lines=n)
        for n in range(HISTORY_LINES - 1, -1, -1)
    )


HISTORY_KINDS = frozenset(
    {
        "accepted",
        "resolved",
        "transferred",
        "rejected",
        "confirmed",
        "reopened",
        "auto_closed",
        "replied",
        "rider_replied",
        "joined",
        "overdue",
        "escalated",
    }
)


def history_line(config: Config, event: dict[str, Any], lang: str) -> Html:
    """One line of a report's history: when, what, who, and the detail that matters."""
    data = event["data"]
    detail = ""  # HTML
    if event["kind"] == "transferred":
        target = data.get("to") if data.get("to") != SUPERVISORS else None
        detail = texts.t(lang, "event.to", place=place_name(config, target, lang))
    elif event["kind"] == "rejected":
        detail = texts.t(lang, f"reject.{data.get('reason', 'no_info')}")
        if data.get("duplicate_of"):
            detail += f" #{int(data['duplicate_of'])}"
    elif data.get("note") or data.get("text"):
        detail = html.escape(_short(data.get("note") or data.get("text") or ""), quote=False)
    who = data.get("name") or texts.t(lang, f"actor.{event['actor_kind']}")
    separator = ": " if lang == "en" else "："
    return texts.t(
        lang,
        "card.history_line",
        when=when(event["at"], config.timezone, lang),
        what=texts.t(lang, f"event.{event['kind']}"),
        who=who,
        detail=Html(separator + detail if detail else ""),
    )


def card_buttons(report: Report, lang: str) -> Buttons:
    """The actions staff can take now (none once it waits for the rider or is closed), and
    the location pin on request (the card's text links the maps already)."""

    def b(key: str, action: str) -> Button:
        return Button(texts.t(lang, key), callbacks.encode("r", report.id, action))

    pin = (b("button.pin", "pin"),)
    if report.status in (Status.DISPATCHED, Status.REOPENED, Status.SUBMITTED):
        return (
            (b("button.accept", "acc"),),
            (b("button.transfer", "trm"), b("button.reject", "rjm")),
            pin,
        )
    if report.status == Status.ACCEPTED:
        return (
            (b("button.resolve", "res"),),
            (b("button.transfer", "trm"), b("button.reject", "rjm")),
            pin,
        )
    return (pin,)


def transfer_buttons(config: Config, report: Report, lang: str) -> Buttons:
    rows = [
        (Button(c.name, callbacks.encode("r", report.id, "tr", c.id)),)
        for c in config.communities
        if c.id != report.community_id
    ]
    if report.community_id is not None:
        rows.append(
            (Button(config.supervisors.name, callbacks.encode("r", report.id, "tr", SUPERVISORS)),)
        )
    rows.append((Button(texts.t(lang, "button.back"), callbacks.encode("r", report.id, "back")),))
    return tuple(rows)


def reject_buttons(report: Report, lang: str) -> Buttons:
    rows: list[tuple[Button, ...]] = [
        (Button(texts.t(lang, f"reject.{r}"), callbacks.encode("r", report.id, "rj", r)),)
        for r in REJECT_REASONS
    ]
    rows.append((Button(texts.t(lang, "button.back"), callbacks.encode("r", report.id, "back")),))
    return tuple(rows)


def build_card(
    config: Config, report: Report, view: CardView, photo_paths: tuple[Path, ...], lang: str
) -> Card:
    category = config.category(report.category)
    assert category is not None
    caption = texts.t(
        lang,
        "card.photo_caption",
        ticket=report.id,
        icon=category.icon,
        category=category.name(lang),
    )
    return Card(
        report_id=report.id,
        photos=photo_paths,
        photo_caption=caption,
        text=card_text(config, report, view, lang),
        location=LatLon(report.lat, report.lon),
        buttons=card_buttons(report, lang),
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _href(url: str) -> str:
    return html.escape(url, quote=True)
