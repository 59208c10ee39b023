"""The ledger (台账): one row per report with every step's time, and the figures per community.

Staff already keep ledgers in spreadsheets; this produces one in the same shape. Times are
local (the configured time zone). The file is written in a worker thread so a large export
never holds up the bot.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import texts
from bot.clock import Clock
from bot.config import ChatTarget, Config
from bot.domain.desks import desk_at
from bot.messages import Outcome, Reply, say
from bot.ports import Courier
from bot.reporting.figures import Figures
from bot.reporting.ledger_files import Sheet, write_csv, write_xlsx
from bot.reporting.metrics import Period
from storage import ledger as ledger_rows
from storage.database import Database
from storage.figures import EVERY, Scope

log = logging.getLogger(__name__)


MAX_EXPORT_DAYS = 366  # a ledger of decades would hold the bot for minutes
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the form the usage shows, ASCII only


class RangeTooLong(ValueError):
    """More days than one export may cover."""


def parse_range(args: list[str], today: date, tz: Any) -> Period:
    """`/export [FROM [TO]]` as YYYY-MM-DD, both days included; default the last 30 days.

    ValueError for anything else (Python alone would also take "2026-W47" or "20261101",
    and years such as 0001 or 9999 whose midnights have no UTC moment).
    """
    if not args:
        first, last = today - timedelta(days=29), today
    else:
        first = _date(args[0])
        last = _date(args[1]) if len(args) > 1 else today
    if last < first:
        raise ValueError("the end date is before the start date")
    if (last - first).days >= MAX_EXPORT_DAYS:
        raise RangeTooLong(f"more than {MAX_EXPORT_DAYS} days")
    try:
        start = datetime.combine(first, datetime.min.time(), tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
        start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("a date out of range") from exc
    return Period(start, end)


def _date(text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)


class Ledger:
    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        courier: Courier | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.courier = courier
        self.clock = clock
        self.lang = config.language
        self.figures = Figures(db)

    async def for_chat(self, chat: ChatTarget, args: list[str]) -> Outcome:
        """/export in the supervisors' chat: a progress note, then the XLSX file."""
        lang = self.lang
        desk = desk_at(self.config, chat.chat_id, chat.topic_id)
        if desk is None or not desk.is_county:
            return say(texts.t(lang, "export.supervisors_only"))
        assert self.courier is not None and self.clock is not None
        tz = self.config.timezone
        try:
            period = parse_range(args, self.clock.now().astimezone(tz).date(), tz)
        except RangeTooLong:
            return say(texts.t(lang, "export.too_long", days=MAX_EXPORT_DAYS))
        except ValueError:
            return say(texts.t(lang, "export.usage"))
        start, end = period.start.date(), (period.end - timedelta(days=1)).date()
        async with self.db.transaction() as conn:
            count = await ledger_rows.count_made(conn, period.start, period.end)
        if count == 0:
            return say(texts.t(lang, "export.empty", start=start, end=end))
        await self.courier.send(
            chat, Reply(texts.t(lang, "export.working", count=count, start=start, end=end))
        )
        try:
            data, count = await self.export(period)
            await self.courier.send_document(
                chat,
                f"suishou-ledger-{start}-{end}.xlsx",
                data,
                texts.t(lang, "export.done", start=start, end=end, count=count),
            )
        except Exception:
            log.exception("export failed")
            return say(texts.t(lang, "export.failed"))
        return Outcome()

    async def sheets(self, period: Period, scope: Scope = EVERY) -> list[Sheet]:
        """The reports sheet and the summary sheet; `scope`: one desk's reports and row only
        (a community's console), else every desk's (the county)."""
        rows = []
        async with self.db.transaction() as conn:
            # Row by row from the database: raw rows never pile up beside the finished ones.
            async for found in ledger_rows.stream_made(conn, period.start, period.end, scope):
                rows.append(self._row(found))

        def t(key: str) -> str:
            return texts.t(self.lang, f"ledger.{key}")

        headers = [
            t(k)
            for k in (
                "ticket",
                "community",
                "category",
                "reported",
                "dispatched",
                "accepted",
                "resolved",
                "closed",
                "confirmed_at",
                "deadline",
                "status",
                "closure",
                "on_time",
                "handler",
                "lat",
                "lon",
                "note",
                "transfers",
                "reopened",
                "confirmations",
            )
        ]
        return [
            Sheet(
                t("sheet_reports"),
                headers,
                rows,
                widths=[8, 14, 10, 17, 17, 17, 17, 17, 17, 17, 14, 14, 8, 10, 10, 11, 40, 8, 8, 8],
            ),
            await self._summary(period, scope),
        ]

    def _row(self, r: Any) -> list[Any]:
        """One report as a ledger row (`r`: a row of storage.ledger.stream_made)."""
        lang = self.lang
        if r["outcome"]:
            closure = (
                _label(lang, f"reject.{r['close_reason']}")
                if r["outcome"] == "rejected"
                else _label(lang, f"ledger.fixed_{r['close_reason'] or 'confirmed'}")
            )
            if r["duplicate_of"]:
                closure += f" #{r['duplicate_of']}"
        else:
            closure = ""
        closed = r["closed_at"] if r["outcome"] else None
        on_time = (
            (closed <= r["deadline_at"])
            if closed
            else (False if self._now_after(r["deadline_at"]) else None)
        )
        return [
            r["id"],
            self.config.desk_name(r["community_id"]),
            self.config.category_label(r["category"], lang)[1],
            self._local(r["created_at"]),
            self._local(r["dispatched_at"]),
            self._local(r["last_accepted_at"]),
            self._local(r["resolved_at"]),
            # The closure moment of the figures (a fix: when it was resolved), then when
            # the rider confirmed it (or it closed by itself, or was rejected).
            self._local(closed),
            self._local(r["closing_at"]),
            self._local(r["deadline_at"]),
            _label(lang, f"status.{r['status']}"),
            closure,
            on_time,
            r["handler_name"] or "",
            round(r["lat"], 6),
            round(r["lon"], 6),
            r["note"] or "",
            r["transfer_count"],
            r["reopen_count"],
            r["confirmations"],
        ]

    def _now_after(self, moment: datetime) -> bool:
        now = self.clock.now() if self.clock else datetime.now(moment.tzinfo)
        return now > moment

    def _local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.config.timezone).replace(tzinfo=None) if moment else None

    async def _summary(self, period: Period, scope: Scope = EVERY) -> Sheet:
        lang = self.lang
        counted = (await self.figures.tallies(period, scope)).owned(self.config)
        ids: list[str | None] = (
            [c.id for c in self.config.communities] + [None] if scope is EVERY else [scope]
        )

        def t(key: str) -> str:
            return texts.t(lang, f"ledger.{key}")

        headers = [
            t(k)
            for k in (
                "community",
                "received",
                "due",
                "closed_n",
                "fixed",
                "rejected_n",
                "closure_rate",
                "on_time_rate",
                "median_hours",
                "reopen_rate",
                "satisfaction",
                "transfers",
                "open_end",
                "overdue_end",
            )
        ]
        rows = []
        for cid in ids:
            m = counted.metrics(cid)
            median = m.median_time_to_close
            rows.append(
                [
                    self.config.desk_name(cid),
                    m.received,
                    m.due,
                    m.closed,
                    m.closed_fixed,
                    m.rejected,
                    _pct(m.closure_rate),
                    _pct(m.on_time_rate),
                    round(median.total_seconds() / 3600, 1) if median else None,
                    _pct(m.reopen_rate),
                    _pct(m.satisfaction),
                    m.transfers,
                    m.open_at_end,
                    m.overdue_open,
                ]
            )
        return Sheet(t("sheet_summary"), headers, rows, widths=[16] + [10] * 13)

    async def export(
        self, period: Period, fmt: str = "xlsx", scope: Scope = EVERY
    ) -> tuple[bytes, int]:
        """The ledger file for reports made in `period` (of one desk, with `scope`), and
        how many rows it has."""
        sheets = await self.sheets(period, scope)
        data = await asyncio.to_thread(_encode, sheets, fmt)
        return data, len(sheets[0].rows)


@functools.lru_cache(maxsize=256)
def _label(lang: str, key: str) -> str:
    """A fixed label (a status, a closure reason): looked up once, not once per row."""
    return str(texts.t(lang, key))


def _pct(rate: float | None) -> float | None:
    """Rates as numbers (percent, one decimal), so the spreadsheet can compute with them."""
    return None if rate is None else round(rate * 100, 1)


def _encode(sheets: list[Sheet], fmt: str) -> bytes:
    if fmt == "csv":
        text = io.StringIO()
        write_csv(sheets[0], text)
        return text.getvalue().encode("utf-8")
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()
