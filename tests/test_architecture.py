"""The core stays free of Telegram, so another chat channel can sit beside handlers/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("telegram", "handlers")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(package: str, allowed: set[str]) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        if bad:
            found[rel] = bad
    return found


def test_only_the_composition_root_of_bot_imports_telegram_or_handlers() -> None:
    assert offenders("bot", {"bot/app.py"}) == {}
    assert "telegram" in {m.split(".")[0] for m in imported_modules(ROOT / "bot/app.py")}


def test_storage_knows_neither_telegram_nor_the_handlers() -> None:
    assert offenders("storage", set()) == {}


def test_the_web_channel_knows_nothing_of_telegram() -> None:
    found = {}
    for path in sorted((ROOT / "handlers" / "web").rglob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] == "telegram"}
        bad |= {
            m
            for m in imported_modules(path)
            if m.startswith("handlers.") and not m.startswith("handlers.web")
        }
        if bad:
            found[path.relative_to(ROOT).as_posix()] = bad
    assert found == {}
