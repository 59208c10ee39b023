"""A Reply as JSON and back: what an outbox row keeps until it is delivered."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from bot.messages import AskFor, Button, Reply


def dump_reply(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        data["buttons"] = [
            [{"text": b.text, "callback": b.callback, "url": b.url} for b in row]
            for row in reply.buttons
        ]
    if reply.ask is not None:
        data["ask"] = {
            "kind": reply.ask.kind,
            "label": reply.ask.label,
            "skip_label": reply.ask.skip_label,
        }
    if reply.remove_keyboard:
        data["remove_keyboard"] = True
    if isinstance(reply.photo, Path):
        data["photo_path"] = str(reply.photo)
    elif isinstance(reply.photo, bytes):  # a chart: small, drawn once
        data["photo_b64"] = base64.b64encode(reply.photo).decode("ascii")
    if reply.force_reply:
        data["force_reply"] = True
    if reply.shorter:
        data["shorter"] = list(reply.shorter)
    return data


def load_reply(data: dict[str, Any]) -> Reply:
    photo: Path | bytes | None = None
    if "photo_path" in data:
        photo = Path(data["photo_path"])
    elif "photo_b64" in data:
        photo = base64.b64decode(data["photo_b64"])
    ask = data.get("ask")
    return Reply(
        text=data["text"],
        buttons=tuple(
            tuple(Button(b["text"], b.get("callback"), b.get("url")) for b in row)
            for row in data.get("buttons", ())
        ),
        ask=AskFor(ask["kind"], ask["label"], ask.get("skip_label")) if ask else None,
        remove_keyboard=bool(data.get("remove_keyboard")),
        photo=photo,
        force_reply=bool(data.get("force_reply")),
        shorter=tuple(data.get("shorter", ())),
    )
