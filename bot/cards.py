"""The dispatcher card: how a report looks in the community's chat.

Staff see what, where, when and by when; the rider appears only as an anonymous label
(their number and platform), never as their chat account.
"""

from __future__ import annotations

import html
from pathlib import Path

from bot import texts
from bot.config import Config
from bot.formatting import coordinates, duration, when
from bot.geo import LatLon, amap_url, osm_url
from bot.messages import Card
from bot.texts import Html
from storage.records import Report, Rider

PLATFORM_KEYS = ("meituan", "eleme", "sf", "jd", "other")


def rider_label(rider: Rider, lang: str) -> str:
    label = texts.t(lang, "card.rider", number=f"{rider.id:04d}")
    if rider.platform in PLATFORM_KEYS:
        label += " · " + texts.t(lang, f"platform.{rider.platform}")
    return label


def build_card(
    config: Config, report: Report, rider: Rider, photo_paths: tuple[Path, ...], lang: str
) -> Card:
    category = config.category(report.category)
    assert category is not None
    point = LatLon(report.lat, report.lon)
    community = config.community(report.community_id)
    place = (
        community.name
        if community
        else texts.t(lang, "card.no_community", supervisors=config.supervisors.name)
    )
    lines = [
        texts.t(
            lang, "card.title", ticket=report.id, icon=category.icon, category=category.name(lang)
        ),
        texts.t(lang, "card.status", status=texts.t(lang, f"status.{report.status}")),
        texts.t(
            lang,
            "card.place",
            place=place,
            method=texts.t(lang, f"card.route_{report.route_method}"),
        ),
        texts.t(lang, "card.reported", when=when(report.created_at, config.timezone, lang)),
        texts.t(
            lang,
            "card.deadline",
            when=when(report.deadline_at, config.timezone, lang),
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
    lines.append(rider_label(rider, lang))
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
        text="\n".join(lines),
        location=point,
    )


def _href(url: str) -> str:
    return html.escape(url, quote=True)
