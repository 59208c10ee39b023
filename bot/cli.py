"""The `suishou` command: run the bot, check a configuration, print or send the weekly
digest, export the ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.casework.chat_moves import move_notes
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config
from bot.config.web import notes as web_notes
from bot.logs import redact
from bot.people import staff_cli
from storage.database import Database
from storage.db import create_engine, migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="suishou", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="serve the riders' web page, and Telegram when its token is set"
    )
    run.add_argument("--config", type=Path, default=Path("config.toml"))
    run.add_argument("--log-level", default="INFO")
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("config", type=Path)
    digest = sub.add_parser("digest", help="print (--dry-run) or send a weekly digest")
    digest.add_argument("--config", type=Path, default=Path("config.toml"))
    digest.add_argument("--week", help="ISO week such as 2026-W47 (default: last week)")
    digest.add_argument("--dry-run", action="store_true", help="print it, send nothing")
    export = sub.add_parser("export", help="write the ledger to an .xlsx or .csv file")
    export.add_argument("--config", type=Path, default=Path("config.toml"))
    export.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    export.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    export.add_argument("--out", type=Path, required=True)
    qr = sub.add_parser("qr", help="draw the rider link as a QR code poster (PNG)")
    qr.add_argument("--config", type=Path, default=Path("config.toml"))
    qr.add_argument("--out", type=Path, required=True)
    staff_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "staff":
        return staff_command(args)
    if args.command == "qr":
        return qr_command(args.config, args.out)
    if args.command == "check-config":
        return check_config(args.config)
    if args.command == "digest":
        return digest_command(args.config, args.week, args.dry_run)
    if args.command == "export":
        return export_command(args.config, args.start, args.end, args.out)
    return run_bot(args.config, args.log_level)


def _problems(config: Config | None, problems: list[str], *, need_token: bool) -> list[str]:
    if config is not None and need_token and config.token() is None:
        problems.append(
            f"bot.token_env: environment variable {config.token_env} is not set "
            "(it must hold the token from @BotFather)"
        )
    return problems


def _load(path: Path, *, need_token: bool = True) -> tuple[Config | None, list[str]]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return None, exc.problems
    return config, _problems(config, [], need_token=need_token)


def _report(problems: list[str]) -> int:
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1


def check_config(path: Path) -> int:
    config, problems = _load(path, need_token=False)
    if problems or config is None:
        _report(problems)
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"{path}: OK — {len(config.categories)} categories, {len(config.communities)} communities"
    )
    if config.token() is None:
        print(
            f"note: bot.token_env: {config.token_env} is not set, so Telegram is off: "
            "`suishou run` serves the riders' web page alone"
        )
    for note in [*move_notes(config), *web_notes(config.web)]:
        print(f"note: {note}")
    return 0


def run_bot(path: Path, log_level: str) -> int:
    from bot.app import run  # noqa: PLC0415 - only `run` needs Telegram and the web server
    from bot.logs import setup_logging  # noqa: PLC0415

    config, problems = _load(path, need_token=False)
    if problems or config is None:
        return _report(problems)
    setup_logging(log_level)
    return run(config)


async def _database(config: Config) -> Database:
    engine = create_engine(config.database_url)
    await migrate(engine)
    return Database(engine)


def digest_command(path: Path, week: str | None, dry_run: bool) -> int:
    config, problems = _load(path, need_token=not dry_run)
    if problems or config is None:
        return _report(problems)
    from bot.delivery.outbox import Outbox  # noqa: PLC0415
    from bot.reporting.digest import Digests, parse_week, previous_week  # noqa: PLC0415

    try:
        period = (
            parse_week(week, config.timezone)
            if week
            else previous_week(SystemClock().now(), config.timezone)
        )
    except ValueError as exc:
        return _report([f"--week: {exc}"])
    if not dry_run:
        if period.end > SystemClock().now():
            # Sending records the week as done: an unfinished week would block its real digest.
            return _report(["--week: that week is not over yet; use --dry-run to look at it"])
        from bot.app import send_digest  # noqa: PLC0415 - sending needs Telegram

        try:
            sent = asyncio.run(send_digest(config, config.token() or "", period))
        except Exception as exc:
            return _report([f"could not send: {type(exc).__name__}: {redact(str(exc))}"])
        print(f"sent to {len(sent)} chat(s): {', '.join(sent) or 'none (already sent?)'}")
        return 0

    async def dry() -> str:
        db = await _database(config)
        try:
            clock = SystemClock()  # a dry run puts nothing in the outbox
            digests = Digests(config=config, db=db, outbox=Outbox(clock=clock), clock=clock)
            return await digests.plain_text(period)
        finally:
            await db.close()

    print(asyncio.run(dry()))
    return 0


def export_command(path: Path, start: date, end: date, out: Path) -> int:
    config, problems = _load(path, need_token=False)
    if problems or config is None:
        return _report(problems)
    if out.suffix not in (".xlsx", ".csv"):
        return _report(["--out: the file name must end in .xlsx or .csv"])
    from bot.reporting.ledger import Ledger, parse_range  # noqa: PLC0415

    try:
        period = parse_range([start.isoformat(), end.isoformat()], end, config.timezone)
    except ValueError as exc:
        return _report([f"--from/--to: {exc}"])

    async def export() -> int:
        db = await _database(config)
        try:
            data, count = await Ledger(config=config, db=db).export(period, out.suffix[1:])
        finally:
            await db.close()
        out.write_bytes(data)
        return count

    count = asyncio.run(export())
    print(f"{out}: {count} report(s) from {start} to {end}")
    return 0


def staff_command(args: argparse.Namespace) -> int:
    config, problems = _load(args.config, need_token=False)
    if problems or config is None:
        return _report(problems)
    return staff_cli.run(config, args)


def qr_command(path: Path, out: Path) -> int:
    config, problems = _load(path, need_token=False)
    if problems or config is None:
        return _report(problems)
    if out.suffix.lower() != ".png":
        return _report(["--out: the file name must end in .png"])
    from bot.intake.poster import FONT_HINT, make_poster  # noqa: PLC0415 - matplotlib's fonts

    url = config.web.public_url()
    poster = make_poster(url, config.language)
    out.write_bytes(poster.png)
    print(f"{out}: QR code for {url}")
    if config.web.base_url is None:
        print(
            "note: web.base_url is not set, so the code points at this machine's address; "
            "set web.base_url to the address phones open (https) before posting it"
        )
    if not poster.caption_drawn:
        print(
            f"note: no font that can draw Chinese was found, so the poster has no caption: "
            f"{FONT_HINT}, then run this again"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
