"""One process, one event loop: the riders' web page and, when a token is set, Telegram.

The web server starts first and serves whatever Telegram does: riders in China reach the
page even when Telegram cannot be reached. Telegram is started beside it; network errors and
5xx at its start (initialisation, command menus, chat checks) are tried again with backoff,
each try logged, for as long as it takes: an operator starting the bot during an outage wants
it up when Telegram is, not a process that exited. Only a rejected token stops the process
(exit 1). Once polling runs, python-telegram-bot's updater rides out outages itself.

One Ctrl-C (SIGINT) or SIGTERM stops everything: polling, the web server (requests in flight
may finish), cards still being posted, then the database. A second one hurries the web
server along.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from starlette.types import ASGIApp
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import Application

from bot.config.web import WebSettings
from bot.services import Services
from handlers.web.server import listen, server_for

log = logging.getLogger(__name__)

FIRST_WAIT = 0.5  # seconds before the second try
MAX_WAIT = 30.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _not_ptb_bootstrap_abort(record: logging.LogRecord) -> bool:
    """PTB logs each failed start as an aborted retry loop, with a traceback: we say it once."""
    return "Bootstrap Initialize Application" not in record.getMessage()


def _not_frontend_page(record: logging.LogRecord) -> bool:
    """PTB logs a 502's HTML page as an error with a traceback; the NetworkError it raises
    ("Bad Gateway (502)") is logged where it is handled, so the page adds only noise."""
    return not record.getMessage().startswith("Can not load invalid JSON data")


async def serve(
    *,
    services: Services,
    web_app: ASGIApp,
    web: WebSettings,
    telegram: AnyApplication | None,
    token_env: str,
    api: str,
) -> int:
    """Run until stopped; 0 on a stop, 1 on a bad token or a port that cannot be had."""
    logging.getLogger("telegram.ext").addFilter(_not_ptb_bootstrap_abort)
    logging.getLogger("telegram.request.BaseRequest").addFilter(_not_frontend_page)
    try:
        sock = listen(web.host, web.port)
    except OSError as exc:
        log.error("web server cannot listen", extra={"host": web.host, "port": web.port})
        print(f"web: cannot listen on {web.host}:{web.port}: {exc.strerror}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    server = server_for(web_app)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            server.force_exit = True  # a second Ctrl-C: do not wait for slow requests
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal)
    try:
        await services.start()  # the schema, before anyone is served
        await services.delivery.start()  # what waits in the outbox, from now on
        web_task = asyncio.create_task(server.serve(sockets=[sock]))
        _announce(web.public_url(sock.getsockname()[1]), telegram is not None, token_env)
        tasks: set[asyncio.Task[Any]] = {web_task, asyncio.create_task(stop.wait())}
        if telegram is not None:
            tg_task = asyncio.create_task(run_telegram(telegram, stop, token_env, api))
            tasks.add(tg_task)
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        server.should_exit = True
        code = 0
        if telegram is not None:
            code = await tg_task
        await web_task
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        sock.close()
        await services.stop()
    return code


def _announce(link: str, telegram_on: bool, token_env: str) -> None:
    """What the operator reads first: where riders go, and whether Telegram runs too."""
    log.info("web serving", extra={"url": link, "telegram": telegram_on})
    print(f"随手 Suishou: riders' page at {link}", flush=True)
    if telegram_on:
        print("Telegram is on: the bot and the web page run together.", flush=True)
    else:
        print(
            f"Telegram is off ({token_env} is not set): serving the web page alone; "
            "reports are kept and shown on it.",
            flush=True,
        )


async def run_telegram(app: AnyApplication, stop: asyncio.Event, token_env: str, api: str) -> int:
    """Start the bot (retrying through outages), poll until `stop`, then stop it."""
    tries = 0
    steps = _Steps(app)
    while not stop.is_set():
        attempt = asyncio.create_task(steps.start())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({attempt, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not attempt.done():  # stopped while Telegram is slow to answer: give up on it
            attempt.cancel()
            with contextlib.suppress(asyncio.CancelledError, NetworkError):
                await attempt
            break
        try:
            attempt.result()
        except InvalidToken:
            log.error("Telegram rejected the bot token", extra={"token_env": token_env})
            await app.shutdown()
            return 1
        except NetworkError as exc:
            if isinstance(exc, BadRequest):  # a bug of ours, not an outage
                raise
            tries += 1
            wait = min(FIRST_WAIT * 2 ** (tries - 1), MAX_WAIT)
            log.warning(
                "cannot reach Telegram; retrying",
                extra={
                    "api": api,
                    "try": tries,
                    "wait_s": wait,
                    # PTB appends a frontend's whole HTML page; its first sentence is enough.
                    "reason": str(exc).split(". Parsing the server response", 1)[0],
                },
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            continue
        await stop.wait()
        break
    await steps.stop()
    return 0


class _Steps:
    """Application start and stop, as python-telegram-bot's run_polling does them, except
    that the database closes with the whole process (the web server uses it too)."""

    def __init__(self, app: AnyApplication) -> None:
        self.app = app
        self.ready = False  # initialised and post_init done: a retry must not redo jobs

    async def start(self) -> None:
        app = self.app
        if not self.ready:
            await app.initialize()
            if app.post_init is not None:
                await app.post_init(app)
            self.ready = True
        assert app.updater is not None
        await app.updater.start_polling(
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY], bootstrap_retries=0
        )
        await app.start()

    async def stop(self) -> None:
        app = self.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
