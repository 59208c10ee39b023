"""What the application says, independent of the chat channel that carries it.

Handlers turn these into Telegram messages and keyboards; another channel (WeCom) would
turn them into its own. Texts are HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot import texts
from bot.domain.geo import LatLon


@dataclass(frozen=True)
class Button:
    """An inline button: pressing it sends `callback` back, or opens `url`."""

    text: str
    callback: str | None = None
    url: str | None = None


Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class AskFor:
    """A one-tap button on the rider's keyboard that shares their location or phone number."""

    kind: Literal["location", "contact"]
    label: str
    skip_label: str | None = None


@dataclass(frozen=True)
class Reply:
    """A message. With `photo` the text becomes its caption; `force_reply` asks the people
    mentioned in it to answer by replying (used for staff prompts in groups). `shorter`: the
    same message in fewer words, longest first, for a place that cannot hold `text` (a
    photo's caption); the channel picks the first that fits."""

    text: str
    buttons: Buttons = ()
    ask: AskFor | None = None
    remove_keyboard: bool = False
    photo: Path | bytes | None = None
    force_reply: bool = False
    shorter: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The answer to one thing a person did.

    `replies` are new messages to them; `edit` replaces the message whose button they
    pressed; `toast` is the short notice shown on the button press (`alert` makes it a
    dialog they must dismiss). `created` is the ticket the action made, if it made one
    (what the per-rider report limit counts).
    """

    replies: tuple[Reply, ...] = ()
    edit: Reply | None = None
    toast: str | None = None
    alert: bool = False
    created: int | None = None


def say(text: str) -> Outcome:
    """The simplest answer: one message back to the person."""
    return Outcome(replies=(Reply(text),))


@dataclass(frozen=True)
class Card:
    """A report as the community's dispatcher chat sees it.

    With one photo the card is that photo, `text` its caption (when it fits) and `buttons`
    under it; otherwise the photos (an album cannot carry buttons) come first, captioned
    `photo_caption`, then `text` with the buttons. The location pin is sent on request.
    """

    report_id: int
    photos: tuple[Path, ...]
    photo_caption: str
    text: str
    location: LatLon
    buttons: Buttons = field(default=())


@dataclass(frozen=True)
class Answer:
    """What became of the rider's answer: `ok`, and the catalogue key that says so (its
    values in `values`, e.g. the ticket), for the channel to word in its own way."""

    ok: bool
    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        """The words, as HTML (the catalogue's, values escaped)."""
        return texts.t(lang, self.key, **self.values)
