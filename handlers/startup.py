"""Starting the bot while Telegram is unreachable: wait for it, say a wrong token plainly.

Network errors and 5xx at start (initialisation, command menus, chat checks) are tried again
with backoff, each try logged, for as long as it takes: an operator starting the bot during
an outage wants it up when Telegram is, not a process that exited. Only a rejected token
stops it (exit 1). Once polling runs, python-telegram-bot's updater rides out outages itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import Application

log = logging.getLogger(__name__)

FIRST_WAIT = 0.5  # seconds before the second try
MAX_WAIT = 30.0


def _not_ptb_bootstrap_abort(record: logging.LogRecord) -> bool:
    """PTB logs each failed start as an aborted retry loop, with a traceback: we say it once."""
    return "Bootstrap Initialize Application" not in record.getMessage()


def _not_frontend_page(record: logging.LogRecord) -> bool:
    """PTB logs a 502's HTML page as an error with a traceback; the NetworkError it raises
    ("Bad Gateway (502)") is logged where it is handled, so the page adds only noise."""
    return not record.getMessage().startswith("Can not load invalid JSON data")


def run_until_stopped(build: Callable[[], Application], *, token_env: str, api: str) -> int:
    """Run a fresh application from `build` until stopped; 0 on a stop, 1 on a bad token."""
    logging.getLogger("telegram.ext").addFilter(_not_ptb_bootstrap_abort)
    logging.getLogger("telegram.request.BaseRequest").addFilter(_not_frontend_page)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    tries = 0
    try:
        while True:
            app = build()
            try:
                app.run_polling(
                    allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
                    bootstrap_retries=0,
                    close_loop=False,
                )
                return 0
            except InvalidToken:
                log.error("Telegram rejected the bot token", extra={"token_env": token_env})
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
            try:
                loop.run_until_complete(asyncio.sleep(wait))
            except (KeyboardInterrupt, SystemExit):  # stopped while waiting: a normal stop
                return 0
    finally:
        loop.close()
