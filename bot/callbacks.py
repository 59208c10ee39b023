"""Button payloads: short, versioned strings, because a button lives as long as its message.

Format ``v1:<scope>:<id>:<action>[:<arg>]`` — scope ``u`` (rider account), ``d`` (draft),
``r`` (report). At most 64 bytes (Telegram's limit). Anything that does not parse, or
carries another version, is treated as a stale button.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.numbers import MAX_ID, parse_positive_int

VERSION = "v1"
SCOPES = ("u", "d", "r")
MAX_BYTES = 64


@dataclass(frozen=True)
class Callback:
    scope: str
    target: int
    action: str
    arg: str | None = None

    def encode(self) -> str:
        parts = [VERSION, self.scope, str(self.target), self.action]
        if self.arg is not None:
            parts.append(self.arg)
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES or any(":" in p for p in parts[3:]):
            raise ValueError(f"callback data {data!r} is too long or malformed")
        return data


def encode(scope: str, target: int, action: str, arg: str | None = None) -> str:
    return Callback(scope, target, action, arg).encode()


def decode(data: str | None) -> Callback | None:
    """The callback in `data`, or None when it is not one of ours (or an old version)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) not in (4, 5) or parts[0] != VERSION or parts[1] not in SCOPES:
        return None
    target = parse_positive_int(parts[2], MAX_ID)  # "²", "١" or 20 digits are not ids
    if target is None or not parts[3]:
        return None
    return Callback(parts[1], target, parts[3], parts[4] if len(parts) == 5 else None)
