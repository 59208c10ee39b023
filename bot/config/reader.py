"""Walking the TOML tree: key paths, types, and every problem collected, never the first only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """The configuration has problems; `problems` lists them as 'key.path: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Reader:
    """Walks the TOML tree, remembering key paths and collecting problems."""

    base_dir: Path
    problems: list[str] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def get(
        self,
        table: Mapping[str, Any],
        path: str,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        required: bool = False,
    ) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if required or default is ...:
                self.problem(full, "missing")
                return None
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.problem(full, f"expected {kind_name(kind)}, got a boolean")
            return None
        if not isinstance(value, kind):
            self.problem(full, f"expected {kind_name(kind)}, got {type(value).__name__}")
            return None
        return value

    def unknown_keys(self, table: Mapping[str, Any], path: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problem(f"{path}.{key}" if path else key, "unknown key")


def kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def read_table(r: Reader, raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        r.problem(key, "expected a table")
        return {}
    return value
