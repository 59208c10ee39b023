"""The `suishou` command: run the bot, or check a configuration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="suishou", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the bot (long polling)")
    run.add_argument("--config", type=Path, default=Path("config.toml"))
    run.add_argument("--log-level", default="INFO")
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config(args.config)
    return run_bot(args.config, args.log_level)


def _load(path: Path) -> tuple[object | None, list[str]]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return None, exc.problems
    problems = []
    if config.token() is None:
        problems.append(
            f"bot.token_env: environment variable {config.token_env} is not set "
            "(it must hold the token from @BotFather)"
        )
    return config, problems


def check_config(path: Path) -> int:
    config, problems = _load(path)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"{path}: OK — {len(config.categories)} categories, "  # type: ignore[attr-defined]
        f"{len(config.communities)} communities"
    )  # type: ignore[attr-defined]
    return 0


def run_bot(path: Path, log_level: str) -> int:
    from bot.app import run_polling  # noqa: PLC0415 - keeps check-config light
    from bot.logs import setup_logging  # noqa: PLC0415

    config, problems = _load(path)
    if problems:
        for problem in problems:
            print(f"problem: {problem}", file=sys.stderr)
        return 1
    setup_logging(log_level)
    run_polling(config, config.token())  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
