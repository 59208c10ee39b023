"""The figures every view shows (/stats, digests, the ledger, /me), counted by the database.

One place turns the SQL counts of storage/figures.py into the application's `Tally` and
`Metrics`, so every view answers from the same numbers, bounded by its period.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from bot.config import Config, PointsRules
from bot.reporting.metrics import ClosureTimes, Metrics, Period, Tally, percent, ranked
from storage import figures as sql
from storage.database import Database
from storage.figures import EVERY, Scope

__all__ = ["EVERY", "DeskFigures", "Figures", "Standing"]


@dataclass(frozen=True)
class DeskFigures:
    """Per desk (None: the supervisors' queue) and for all of them together."""

    per_desk: dict[str | None, Tally]
    total: Tally

    def tally(self, desk: str | None) -> Tally:
        return self.per_desk.get(desk, Tally())

    def metrics(self, desk: str | None) -> Metrics:
        return Metrics.of(self.tally(desk))

    def owned(self, config: Config) -> DeskFigures:
        """The same figures with every desk the configuration no longer lists (a community
        removed or merged away, its reports left behind) counted under the supervisors,
        who answer for them (`Config.desk_name`): the desks' lines then add up to the total."""
        known = {c.id for c in config.communities}
        orphans = [t for cid, t in self.per_desk.items() if cid is not None and cid not in known]
        if not orphans:
            return self
        per_desk: dict[str | None, Tally] = {
            cid: t for cid, t in self.per_desk.items() if cid in known
        }
        per_desk[None] = Tally.total([self.tally(None), *orphans])
        return DeskFigures(per_desk, self.total)

    def ranking_lines(self, config: Config, key: str, lang: str) -> list[str]:
        """Every community and the supervisors' queue, best first, one line each (`key`)."""
        ids: list[str | None] = [c.id for c in config.communities] + [None]
        owned = self.owned(config)
        return [
            texts.t(
                lang,
                key,
                rank=i,
                name=config.desk_name(cid),
                closure=percent(m.closure_rate),
                closed=m.closed,
                due=m.due,
                on_time=percent(m.on_time_rate),
                received=m.received,
                open=m.open_at_end,
                overdue=m.overdue_open,
            )
            for i, (cid, m) in enumerate(ranked({cid: owned.metrics(cid) for cid in ids}), 1)
        ]


@dataclass(frozen=True)
class Standing:
    """A rider's place on the points board, with the name the county may see."""

    rider_id: int
    name: str
    points: int
    reports: int
    rank: int


class Figures:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tallies(
        self,
        period: Period,
        scope: Scope = EVERY,
        *,
        durations: bool = True,
        details: bool = True,
    ) -> DeskFigures:
        """The period's tallies per desk and in total.

        Without `details` (the county's /stats, whose rows show no durations, transfers or
        feedback per desk), those are counted for the total only, more cheaply: of the
        closure times, only the median and the 90th percentile (`Tally.times`).
        """
        county = not details and scope is EVERY
        async with self.db.transaction() as conn:
            if county:
                await sql.one_snapshot(conn)
            rows = await sql.tallies(
                conn, period.start, period.end, scope, durations=durations, details=details
            )
            if county:
                closures = sum(counts.get("closed", 0) for counts in rows.values())
                ranks = ClosureTimes.ranks(closures) if durations else ()
                extra = await sql.details_of(
                    conn, period.start, period.end, ranks=ranks, closures=closures
                )
        per_desk = {cid: Tally(**counts) for cid, counts in rows.items()}
        parts = list(per_desk.values())
        if county:
            found = extra.pop("at_ranks")
            times = ClosureTimes.at_ranks(closures, found) if durations else None
            parts.append(Tally(**extra, times=times))
        return DeskFigures(per_desk, Tally.total(parts))

    async def metrics(self, period: Period, scope: Scope = EVERY) -> Metrics:
        """One desk's metrics (or the county's) for the period."""
        return Metrics.of((await self.tallies(period, scope)).total)

    async def open_tickets(
        self, period: Period, scope: Scope = EVERY, *, per_desk: int, overdue: bool = False
    ) -> dict[str | None, list[tuple[int, bool]]]:
        """Per desk, the first reports still open at the period's end (or overdue then)."""
        async with self.db.transaction() as conn:
            return await sql.open_tickets(
                conn, period.end, scope, per_desk=per_desk, overdue=overdue
            )

    async def overdue_tickets(self, period: Period, limit: int) -> list[tuple[int, str | None]]:
        async with self.db.transaction() as conn:
            return await sql.overdue_tickets(conn, period.end, limit=limit)

    async def any_report_before(self, period: Period) -> bool:
        async with self.db.transaction() as conn:
            return await sql.any_report_before(conn, period.end)

    async def board(
        self, period: Period, rules: PointsRules, limit: int, lang: str
    ) -> list[Standing]:
        """The riders with the most points from reports made in the period.

        Riders are anonymous ("骑手 #0007") unless they chose a display name in 报到: their
        Telegram name is theirs, not the county's.
        """
        async with self.db.transaction() as conn:
            rows = await sql.points_board(
                conn,
                period.start,
                period.end,
                accepted=rules.accepted,
                fixed_bonus=rules.fixed_bonus,
                limit=limit,
            )
        return [
            Standing(
                rider_id=row["rider_id"],
                name=row["display_name"]
                if row["registered_at"] is not None
                else texts.t(lang, "digest.anonymous", number=f"{row['rider_id']:04d}"),
                points=int(row["points"]),
                reports=int(row["reports"]),
                rank=int(row["rank"]),
            )
            for row in rows
        ]

    async def standing(
        self, rider_id: int, period: Period, rules: PointsRules
    ) -> dict[str, int] | None:
        async with self.db.transaction() as conn:
            return await sql.rider_standing(
                conn,
                rider_id,
                period.start,
                period.end,
                accepted=rules.accepted,
                fixed_bonus=rules.fixed_bonus,
            )
