"""Riders' points (积分): their reports count, and they can see it.

A report earns `accepted` points once a community accepted it, and `fixed_bonus` more once
it is closed as fixed; a rejected report earns nothing, even if it had been accepted.
Points belong to the month (or week) the report was made in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.config import PointsRules
from bot.reporting.metrics import Period


@dataclass(frozen=True)
class ReportCredit:
    rider_id: int
    created_at: datetime
    accepted: bool  # a community accepted it at least once
    outcome: str | None  # fixed | rejected | None while open


@dataclass(frozen=True)
class Standing:
    rider_id: int
    points: int
    reports: int
    rank: int


def points_for(credit: ReportCredit, rules: PointsRules) -> int:
    if credit.outcome == "rejected":
        return 0
    points = rules.accepted if credit.accepted else 0
    if credit.outcome == "fixed":
        points += rules.fixed_bonus
    return points


def board(credits: Iterable[ReportCredit], rules: PointsRules, period: Period) -> list[Standing]:
    """Riders ranked by points earned in the period; equal points share a rank (1, 1, 3)."""
    totals: dict[int, list[int]] = {}
    for credit in credits:
        if credit.created_at not in period:
            continue
        entry = totals.setdefault(credit.rider_id, [0, 0])
        entry[0] += points_for(credit, rules)
        entry[1] += 1
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    standings: list[Standing] = []
    for i, (rider_id, (points, reports)) in enumerate(ordered):
        rank = standings[-1].rank if standings and standings[-1].points == points else i + 1
        standings.append(Standing(rider_id, points, reports, rank))
    return standings
