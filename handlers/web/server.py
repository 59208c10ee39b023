"""Serving the web app with uvicorn inside the process's own event loop.

The listening socket is bound here, before anything else starts, so a port already taken
is said plainly (and port 0 gives a free one, whose number the rider link then shows).
uvicorn's own signal handling is switched off: one Ctrl-C or SIGTERM stops the whole
process (web and Telegram together), which handlers/startup.py arranges.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

GRACE_SECONDS = 5  # requests in flight at a stop get this long to finish


class WebServer(uvicorn.Server):
    """uvicorn, minus its signal handlers (the process's stop is the caller's)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (raises OSError: in use, no such address).

    Listening at once, so a phone that opens the link printed at start is queued, never
    refused, while the server is still starting.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def server_for(app: ASGIApp) -> WebServer:
    # uvicorn's start/stop chatter would come after our own last word at a stop.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return WebServer(
        uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,  # no rider's address or path in the logs
            server_header=False,
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
    )
