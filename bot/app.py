"""The composition root: the only module of bot/ that knows Telegram.

It builds a python-telegram-bot Application from the configuration, wires the
application's services to the Telegram handlers, and owns start-up and shut-down.
Tests call `build_application` with a fake Telegram transport and then `on_startup`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, cast

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    JobQueue,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import texts
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import TELEGRAM, WEB
from bot.delivery.worker import Backoff
from bot.offline import NoMembers
from bot.reporting.metrics import Period
from bot.services import Services
from handlers import startup, web
from handlers.telegram import buttons, dispatcher, errors, groups, jobs, limits, rider
from handlers.telegram.context import BotData, Data, SuishouApp, SuishouBot, SuishouContext
from handlers.telegram.courier import TelegramCourier
from handlers.telegram.members import TelegramMembers
from handlers.telegram.ordering import PerChatUpdateProcessor
from handlers.telegram.steady import RetryPolicy, SteadyBot
from handlers.web.courier import WebCourier

log = logging.getLogger(__name__)

RIDER_COMMANDS = ("report", "my", "me", "link", "cancel", "lang", "help", "start")
STAFF_COMMANDS = ("stats", "digest", "ticket", "export", "web", "chatid")
DRAFT_SWEEP_INTERVAL = timedelta(minutes=1)


def build_application(
    config: Config,
    token: str,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock | None = None,
    rate_limit: bool | BaseRateLimiter[Any] = True,
    retry: RetryPolicy | None = None,
    backoff: Backoff | None = None,
) -> SuishouApp:
    """The Application for `config`.

    `rate_limit`: True for PTB's AIORateLimiter (Telegram's flood limits), False for none
    (tests), or a rate limiter of one's own. `retry`: how long one delivery is retried through
    Telegram's hiccups before the outbox postpones it for `backoff` (tests pass fast ones).
    Updates of different chats are handled side by side, each chat's (and each person's) in
    order: see handlers/telegram/ordering.py.
    """
    processor = PerChatUpdateProcessor()
    builder: ApplicationBuilder[
        SuishouBot, SuishouContext, Data, Data, BotData, JobQueue[SuishouContext]
    ] = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.api_base_url)
        .base_file_url(config.api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=config.timezone,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=SuishouContext, bot_data=BotData))
        .job_queue(JobQueue[SuishouContext]())  # PTB's default, told whose context its jobs get
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .concurrent_updates(processor)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    if isinstance(rate_limit, BaseRateLimiter):
        builder = builder.rate_limiter(rate_limit)
    elif rate_limit:
        # Paces each group (20 a minute) and the bot (30 a second). A 429 is not retried here:
        # PTB would then hold every chat's requests; the outbox postpones only that chat.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
    app = builder.build()
    steady = SteadyBot(app.bot, retry)
    courier = TelegramCourier(cast(Bot, steady))  # a Bot whose sends are retried, follow moves
    app.bot_data["courier"] = courier
    app.bot_data["services"] = services = Services.create(
        config,
        {TELEGRAM: courier, WEB: WebCourier()},
        clock,
        members=TelegramMembers(app.bot),
        backoff=backoff,
    )
    steady.moves = services.chat_moves
    # Per-rider message limits, applied as updates arrive (before they wait in line).
    processor.gate = limits.FloodGate(services, courier)
    _add_handlers(app)
    return app


def _add_handlers(app: SuishouApp) -> None:
    private = filters.ChatType.PRIVATE
    groups_ = filters.ChatType.GROUPS
    # Order matters: commands first, then message kinds, then the catch-all.
    app.add_handler(CommandHandler("chatid", groups.chat_id, groups_))
    app.add_handler(MessageHandler(groups_ & filters.StatusUpdate.MIGRATE, groups.migrated))
    app.add_handler(
        MessageHandler(
            groups_
            & (filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.LEFT_CHAT_MEMBER),
            groups.members_changed,
        )
    )
    app.add_handler(CommandHandler("ticket", dispatcher.ticket, groups_))
    # Figures are counted in SQL for their period alone (milliseconds); a ledger export
    # takes longer, but updates of other chats never wait for it (handlers/telegram/
    # ordering.py), and a burst of commands in one chat runs one after another, in order.
    app.add_handler(CommandHandler("stats", dispatcher.stats, groups_))
    app.add_handler(CommandHandler("digest", dispatcher.digest, groups_))
    app.add_handler(CommandHandler("export", dispatcher.export, groups_))
    app.add_handler(CommandHandler("web", dispatcher.web, groups_))
    app.add_handler(CommandHandler(["report", "start", "help"], groups.private_only, groups_))
    app.add_handler(CommandHandler("start", rider.start, private))
    app.add_handler(CommandHandler("help", rider.help_, private))
    app.add_handler(CommandHandler("report", rider.report, private))
    app.add_handler(CommandHandler("cancel", rider.cancel, private))
    app.add_handler(CommandHandler("lang", rider.lang, private))
    app.add_handler(CommandHandler("my", rider.my, private))
    app.add_handler(CommandHandler("me", rider.me, private))
    app.add_handler(CommandHandler("link", rider.link, private))
    app.add_handler(MessageHandler(private & (filters.PHOTO | filters.Document.ALL), rider.photo))
    app.add_handler(MessageHandler(private & filters.LOCATION, rider.location))
    app.add_handler(MessageHandler(private & filters.CONTACT, rider.contact))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, rider.text))
    app.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE & ~filters.COMMAND, rider.unsupported)
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, rider.help_))  # unknown command
    app.add_handler(
        MessageHandler(
            groups_ & filters.REPLY & (filters.TEXT | filters.PHOTO) & ~filters.COMMAND,
            dispatcher.reply,
        )
    )
    app.add_handler(CallbackQueryHandler(buttons.on_button))
    app.add_error_handler(errors.on_error)


async def on_startup(app: SuishouApp) -> None:
    """Migrate the database, publish the command menus, check chats, schedule jobs."""
    services: Services = app.bot_data["services"]
    await services.start()
    # Undelivered messages (a run killed mid-delivery, Telegram down) go out from now on.
    await services.delivery.start()
    await _set_commands(app, services.config)
    await _check_chats(app, services)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            jobs.expire_drafts,
            interval=DRAFT_SWEEP_INTERVAL,
            first=DRAFT_SWEEP_INTERVAL,
            name="drafts:expire",
        )
        app.job_queue.run_repeating(
            jobs.sweep_deadlines,
            interval=services.config.casework.sweep_interval,
            first=timedelta(seconds=30),
            name="deadlines:sweep",
        )
        schedule_digest(app, services)
    # A digest missed while the bot was down goes out now (never twice: sends are recorded).
    try:
        await services.digests.send_due()
    except Exception:
        log.exception("digest catch-up failed")
    log.info(
        "started", extra={"bot": app.bot.username, "communities": len(services.config.communities)}
    )


DIGEST_JOB = "digest:weekly"


def schedule_digest(app: SuishouApp, services: Services) -> None:
    """The weekly digest on the configured crontab line; one job however often start runs."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(DIGEST_JOB):
        job.schedule_removal()
    app.job_queue.run_custom(
        jobs.weekly_digest,
        job_kwargs={
            "trigger": services.digests.trigger(),
            "id": DIGEST_JOB,
            "replace_existing": True,
            # A busy moment at 09:00:00 must not skip the week: run it within the hour.
            "misfire_grace_time": 3600,
            "coalesce": True,
        },
        name=DIGEST_JOB,
    )


async def on_stop(app: SuishouApp) -> None:
    """Stop delivering (letting deliveries under way end) while the Bot still works."""
    await app.bot_data["services"].delivery.stop()


async def on_shutdown(app: SuishouApp) -> None:
    await app.bot_data["services"].stop()


async def _set_commands(app: SuishouApp, config: Config) -> None:
    """Riders' menu in private chats, staff's menu in groups, in each language."""
    menus = (
        (BotCommandScopeAllPrivateChats(), RIDER_COMMANDS),
        (BotCommandScopeAllGroupChats(), STAFF_COMMANDS),
    )
    for scope, names in menus:
        for lang in texts.LANGUAGES:
            commands = [BotCommand(c, texts.t(lang, f"commands.{c}")) for c in names]
            code = None if lang == config.language else lang
            await app.bot.set_my_commands(commands, scope=scope, language_code=code)


async def _check_chats(app: SuishouApp, services: Services) -> None:
    """Warn early when the bot is not in a dispatcher chat, rather than at the first report."""
    config = services.config
    chats = [("supervisors", config.supervisors.chat.chat_id)]
    chats += [(c.id, c.chat.chat_id) for c in config.communities]
    for name, configured in chats:
        chat_id = services.chat_moves.resolve(configured)  # where an upgraded group is now
        try:
            member = await app.bot.get_chat_member(chat_id, app.bot.id)
        except ChatMigrated as exc:  # upgraded while the bot was away: follow it now
            await services.chat_moves.moved(chat_id, exc.new_chat_id)
            continue
        except TelegramError as exc:
            log.warning(
                "dispatcher chat unreachable",
                extra={"community": name, "chat": chat_id, "reason": exc.message},
            )
            continue
        if member.status not in ("administrator", "creator", "member"):
            log.warning(
                "bot is not a member of the dispatcher chat",
                extra={"community": name, "chat": chat_id, "status": member.status},
            )


async def send_digest(config: Config, token: str, week: Period) -> list[str]:
    """`suishou digest` without --dry-run: send one week's digest now, then stop."""
    app = build_application(config, token)
    async with app:
        services: Services = app.bot_data["services"]
        await services.start()
        try:
            sent = await services.digests.send_week(week)
            await services.delivery.drain(timeout=120)  # it exits next: deliver first
            return sent
        finally:
            await services.stop()


def run(config: Config) -> int:
    """`suishou run`: the web page, and Telegram too when its token is set, in one loop,
    until interrupted; a wrong token is said plainly (exit 1): see handlers/startup.py."""
    token = config.token()
    telegram = build_application(config, token) if token else None
    if telegram is not None:
        services: Services = telegram.bot_data["services"]
    else:
        # No Telegram: web riders' messages are delivered; the desks' wait in the outbox
        # for the first start with a token.
        services = Services.create(config, {WEB: WebCourier()}, members=NoMembers())
    web_app, _ = web.build(services, telegram_on=telegram is not None)
    return asyncio.run(
        startup.serve(
            services=services,
            web_app=web_app,
            web=config.web,
            telegram=telegram,
            token_env=config.token_env,
            api=config.api_base_url,
        )
    )
