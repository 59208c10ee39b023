"""The rider's private chat: registration, photos, location, category, note, submit."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import JobQueue

from bot.callbacks import decode
from bot.delivery.outbox import TELEGRAM
from bot.domain.geo import LatLon
from bot.intake.photo_input import FetchError, PhotoInput
from bot.messages import Outcome, say
from bot.people.riders import RiderCtx
from bot.texts import t
from handlers.telegram import limits
from handlers.telegram.context import SuishouContext
from handlers.telegram.updates import message_of, user_of


async def _rider(update: Update, context: SuishouContext) -> RiderCtx:
    user = user_of(update)
    return await context.services.rider(TELEGRAM, str(user.id), user.full_name, user.language_code)


async def start(update: Update, context: SuishouContext) -> None:
    """/start: 报到 (registration), or a welcome back."""
    ctx = await _rider(update, context)
    user = user_of(update)
    outcome = await context.services.registration.start(ctx, user.first_name)
    await context.courier.deliver(update, outcome)
    if context.args and context.args[0] == "report" and ctx.rider.registered:
        await context.courier.deliver(update, await context.services.intake.start_report(ctx))


async def help_(update: Update, context: SuishouContext) -> None:
    ctx = await _rider(update, context)
    await context.courier.deliver(update, context.services.help(ctx.lang))


async def report(update: Update, context: SuishouContext) -> None:
    """/report: start a draft, or show what the open one still needs."""
    ctx = await _rider(update, context)
    await context.courier.deliver(update, await context.services.intake.start_report(ctx))


async def cancel(update: Update, context: SuishouContext) -> None:
    ctx = await _rider(update, context)
    await context.courier.deliver(update, await context.services.intake.cancel(ctx))


async def lang(update: Update, context: SuishouContext) -> None:
    ctx = await _rider(update, context)
    await context.courier.deliver(update, context.services.registration.choose_language(ctx))


def fetcher(file_id: str, context: SuishouContext) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        try:
            file = await context.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise FetchError(str(exc)) from exc

    return fetch


async def _relayed(
    update: Update, context: SuishouContext, ctx: RiderCtx, photo: PhotoInput | None = None
) -> bool:
    """A reply to a message about a report goes to that report's community, not the draft."""
    message = message_of(update)
    if message.reply_to_message is None:
        return False
    outcome = await context.services.rider_chat.reply(
        ctx, message.reply_to_message.message_id, message.text or message.caption or "", photo
    )
    if outcome is None:
        return False
    await context.courier.deliver(update, outcome)
    return True


async def me(update: Update, context: SuishouContext) -> None:
    """/me: this month's reports, points and rank."""
    ctx = await _rider(update, context)
    services = context.services
    await context.courier.deliver(update, await services.my_reports.me(ctx, services.clock.now()))


async def link(update: Update, context: SuishouContext) -> None:
    """/link: a one-time code that joins the rider's web page to this account."""
    ctx = await _rider(update, context)
    await context.courier.deliver(update, await context.services.linking.new_code(ctx))


async def my(update: Update, context: SuishouContext) -> None:
    """/my: recent reports and their status."""
    ctx = await _rider(update, context)
    await context.courier.deliver(update, await context.services.my_reports.list(ctx))


async def photo(update: Update, context: SuishouContext) -> None:
    """A photo, or an image sent as a file (which keeps its EXIF location)."""
    message = message_of(update)
    ctx = await _rider(update, context)
    if message.photo and message.reply_to_message is not None:
        largest = message.photo[-1]
        as_reply = PhotoInput(
            fetch=fetcher(largest.file_id, context), size=largest.file_size, as_file=False
        )
        if await _relayed(update, context, ctx, as_reply):
            return
    if message.photo:
        largest = message.photo[-1]
        item = PhotoInput(
            fetch=fetcher(largest.file_id, context), size=largest.file_size, as_file=False
        )
    else:
        doc = message.document
        assert doc is not None
        item = PhotoInput(
            fetch=fetcher(doc.file_id, context),
            size=doc.file_size,
            as_file=True,
            mime_type=doc.mime_type,
        )
    item = dataclasses.replace(
        item,
        caption=message.caption,
        media_group_id=message.media_group_id,
        forwarded=message.forward_origin is not None,
    )
    outcome = await context.services.intake.add_photo(ctx, item)
    await context.courier.deliver(update, outcome)
    jobs = context.jobs
    if message.media_group_id and not outcome.replies and jobs is not None:
        _schedule_album_answer(update, context, jobs)


def _schedule_album_answer(
    update: Update, context: SuishouContext, jobs: JobQueue[SuishouContext]
) -> None:
    """Albums arrive as one message per photo: answer once, after the last one."""
    user = user_of(update)
    name = f"album:{user.id}"
    for job in jobs.get_jobs_by_name(name):
        job.schedule_removal()
    jobs.run_once(
        album_done,
        when=context.services.config.album_wait_seconds,
        name=name,
        data=update,
        chat_id=user.id,
        user_id=user.id,
    )


async def album_done(context: SuishouContext) -> None:
    update = context.job.data if context.job else None
    assert isinstance(update, Update)  # as _schedule_album_answer left it
    ctx = await _rider(update, context)
    await context.courier.deliver(update, await context.services.intake.album_done(ctx))


async def location(update: Update, context: SuishouContext) -> None:
    message = message_of(update)
    ctx = await _rider(update, context)
    if message.forward_origin is not None:
        await context.courier.deliver(update, say(t(ctx.lang, "location.invalid")))
        return
    loc = message.location
    assert loc is not None
    outcome = await context.services.intake.set_location(ctx, LatLon(loc.latitude, loc.longitude))
    await context.courier.deliver(update, outcome)


async def contact(update: Update, context: SuishouContext) -> None:
    message = message_of(update)
    ctx = await _rider(update, context)
    shared = message.contact
    assert shared is not None
    own = shared.user_id == ctx.chat_id and message.forward_origin is None
    outcome = await context.services.registration.set_phone(ctx, shared.phone_number, own=own)
    await context.courier.deliver(update, outcome)


async def text(update: Update, context: SuishouContext) -> None:
    message = message_of(update)
    ctx = await _rider(update, context)
    if await _relayed(update, context, ctx):
        return
    await context.courier.deliver(update, await context.services.text(ctx, message.text or ""))


async def unsupported(update: Update, context: SuishouContext) -> None:
    """Stickers, voice, video...: say what we can take instead of staying silent."""
    ctx = await _rider(update, context)
    await context.courier.deliver(update, say(t(ctx.lang, "input.unsupported")))


async def button(update: Update, context: SuishouContext) -> None:
    """A press on a button in the rider's private chat."""
    query = update.callback_query
    assert query is not None
    ctx = await _rider(update, context)
    cb = decode(query.data)
    services = context.services
    if cb is not None and cb.scope == "d" and cb.action == "submit":
        outcome = await limits.submit(ctx, cb, context)
    elif cb is not None and cb.scope == "d":
        outcome = await services.intake.press(ctx, cb)
    elif cb is not None and cb.scope == "r" and cb.action == "fb":
        message_id = query.message.message_id if query.message else None
        outcome = await services.rider_chat.feedback(ctx, cb.target, cb.arg == "y", message_id)
    elif cb is not None and cb.scope == "r" and cb.action == "det":
        outcome = await services.my_reports.detail(ctx, cb.target)
    elif cb is not None and cb.scope == "u":
        outcome = await services.registration.press(ctx, cb, query.from_user.first_name)
    else:
        outcome = _stale(ctx.lang)
    await context.courier.deliver(update, outcome)


def _stale(lang: str) -> Outcome:
    return Outcome(toast=t(lang, "button.stale"), alert=True)
