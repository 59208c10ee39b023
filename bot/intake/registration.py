"""报到: a rider introduces themselves once — display name, delivery platform, optional phone.

Registration never stands in the way of a report: a rider who sends a photo first can
report straight away and register later.
"""

from __future__ import annotations

import re

from bot import callbacks, texts
from bot.callbacks import Callback
from bot.casework.cards import PLATFORM_KEYS
from bot.clock import Clock
from bot.messages import Answer, AskFor, Button, Outcome, Reply, say
from bot.people.riders import RiderCtx
from storage import riders
from storage.database import Database

NAME_MAX = 20
PHONE = re.compile(r"\+?[0-9]{6,15}")  # a mobile or landline number, digits only once cleaned


def clean_name(typed: str) -> str | None:
    """The display name as it will be kept, or None when it breaks the rules."""
    name = " ".join(typed.split())
    if not name or len(name) > NAME_MAX or name.startswith("/"):
        return None
    return name


def clean_phone(typed: str) -> str | None:
    """A typed phone number without its spaces, dashes and brackets; None if it is not one."""
    number = re.sub(r"[\s()\-]", "", typed)
    return number if PHONE.fullmatch(number) else None


class Registration:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def start(self, ctx: RiderCtx, telegram_name: str) -> Outcome:
        lang = ctx.lang
        if ctx.rider.registered:
            return Outcome(
                replies=(
                    Reply(
                        texts.t(lang, "start.welcome_back", name=ctx.rider.display_name),
                        remove_keyboard=True,
                    ),
                )
            )
        async with self.db.transaction() as conn:
            await riders.set_fields(conn, ctx.rider.id, awaiting="display_name")
        button = Button(
            texts.t(lang, "register.use_name", name=telegram_name[:NAME_MAX]),
            callbacks.encode("u", ctx.rider.id, "name"),
        )
        return Outcome(replies=(Reply(texts.t(lang, "start.welcome"), ((button,),)),))

    async def set_name(self, ctx: RiderCtx, name: str) -> Outcome:
        cleaned = clean_name(name)
        if cleaned is None:
            return Outcome(
                replies=(Reply(texts.t(ctx.lang, "register.bad_name", limit=NAME_MAX)),)
            )
        async with self.db.transaction() as conn:
            await riders.set_fields(conn, ctx.rider.id, display_name=cleaned, awaiting=None)
        return Outcome(replies=(self._ask_platform(ctx, cleaned),))

    def _ask_platform(self, ctx: RiderCtx, name: str) -> Reply:
        lang = ctx.lang
        row = [
            Button(texts.t(lang, f"platform.{p}"), callbacks.encode("u", ctx.rider.id, "pf", p))
            for p in PLATFORM_KEYS
        ]
        return Reply(
            texts.t(lang, "register.ask_platform", name=name), (tuple(row[:3]), tuple(row[3:]))
        )

    async def press(self, ctx: RiderCtx, cb: Callback, telegram_name: str) -> Outcome:
        lang = ctx.lang
        if cb.target != ctx.rider.id:
            return Outcome(toast=texts.t(lang, "button.stale"), alert=True)
        if cb.action == "name":
            name = " ".join(telegram_name.split())[:NAME_MAX] or ctx.rider.display_name
            async with self.db.transaction() as conn:
                await riders.set_fields(conn, ctx.rider.id, display_name=name, awaiting=None)
            return Outcome(edit=self._ask_platform(ctx, name))
        if cb.action == "pf" and cb.arg in PLATFORM_KEYS:
            async with self.db.transaction() as conn:
                await riders.set_fields(conn, ctx.rider.id, platform=cb.arg, awaiting="phone")
            return Outcome(
                edit=Reply(
                    texts.t(
                        lang, "register.platform_set", platform=texts.t(lang, f"platform.{cb.arg}")
                    )
                ),
                replies=(
                    Reply(
                        texts.t(lang, "register.ask_phone"),
                        ask=AskFor(
                            "contact",
                            texts.t(lang, "button.share_phone"),
                            texts.t(lang, "button.skip"),
                        ),
                    ),
                ),
            )
        if cb.action == "lang" and cb.arg in texts.LANGUAGES:
            async with self.db.transaction() as conn:
                await riders.set_fields(conn, ctx.rider.id, language=cb.arg)
            return Outcome(edit=Reply(texts.t(cb.arg, "lang.set")))
        return Outcome(toast=texts.t(lang, "button.stale"), alert=True)

    async def set_phone(self, ctx: RiderCtx, phone: str | None, *, own: bool = True) -> Outcome:
        """Finish registration with the rider's own phone number, or without one."""
        if not own:
            return say(texts.t(ctx.lang, "register.not_own_contact"))
        async with self.db.transaction() as conn:
            await riders.set_fields(
                conn, ctx.rider.id, phone=phone, awaiting=None, registered_at=self.clock.now()
            )
        return Outcome(replies=(Reply(texts.t(ctx.lang, "register.done"), remove_keyboard=True),))

    def choose_language(self, ctx: RiderCtx) -> Outcome:
        buttons = (
            (
                Button("中文", callbacks.encode("u", ctx.rider.id, "lang", "zh")),
                Button("English", callbacks.encode("u", ctx.rider.id, "lang", "en")),
            ),
        )
        return Outcome(replies=(Reply(texts.t(ctx.lang, "lang.choose"), buttons),))

    async def register(self, ctx: RiderCtx, name: str, platform: str, phone: str) -> Answer:
        """报到 in one go (a form): the same rules as the chat's steps; the phone may be empty.

        A form has no contact button to prove the number is the rider's own: it is kept as
        typed, for the county's staff only, as the chat's is.
        """
        cleaned = clean_name(name)
        if cleaned is None:
            return Answer(False, "register.bad_name", {"limit": NAME_MAX})
        if platform not in PLATFORM_KEYS:
            return Answer(False, "page.bad_platform")
        number = clean_phone(phone) if phone.strip() else None
        if phone.strip() and number is None:
            return Answer(False, "page.bad_phone")
        async with self.db.transaction() as conn:
            await riders.set_fields(
                conn,
                ctx.rider.id,
                display_name=cleaned,
                platform=platform,
                phone=number,
                awaiting=None,
                registered_at=ctx.rider.registered_at or self.clock.now(),
            )
        return Answer(True, "page.registered", {"name": cleaned})
