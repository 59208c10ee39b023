"""The web channel's ASGI application: the riders' phone page and what it posts to.

Routes (handlers/web/pages.py, submit.py, news.py, mine.py, profile.py) identify the
device, then call the core: bot/intake/form.py files a report (or a +1),
bot/intake/my_reports.py tells a rider about theirs, bot/intake/rider_inbox.py what is new
in them, bot/casework/rider_answers.py takes their reply and their 已解决？ answer (as from
Telegram), bot/intake/registration.py their 报到, bot/people/linking.py joins the device to
a Telegram rider.
Static files (the page's script and style, and Leaflet) are served from inside the package:
nothing comes from a CDN. Photos are never served to riders; the staff console
(handlers/web/console/) serves a report's photos to staff signed in at its desk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.casework.rider_answers import RiderAnswers
from bot.clock import Clock
from bot.config import Config
from bot.intake.form import FormIntake
from bot.intake.my_reports import MyReports
from bot.intake.registration import Registration
from bot.intake.rider_inbox import RiderInbox
from bot.people.linking import Linking
from handlers.web import mine, news, pages, profile, submit
from handlers.web.console import routes as console_routes
from handlers.web.device import Signer

STATIC_DIR = Path(__file__).with_name("static")


@dataclass
class Web:
    """What the routes share: the core's use cases and the channel's own pieces."""

    config: Config
    intake: FormIntake
    my_reports: MyReports
    inbox: RiderInbox
    answers: RiderAnswers
    registration: Registration
    linking: Linking
    clock: Clock
    signer: Signer
    telegram_on: bool
    public_url: str
    templates: Environment

    @property
    def prefix(self) -> str:
        """The path the page lives under for phones (a reverse proxy may add one)."""
        return urlsplit(self.public_url).path or "/"


def create_app(
    *,
    config: Config,
    intake: FormIntake,
    my_reports: MyReports,
    inbox: RiderInbox,
    answers: RiderAnswers,
    registration: Registration,
    linking: Linking,
    clock: Clock,
    secret: bytes,
    telegram_on: bool,
    public_url: str | None = None,
    console: Callable[[Environment, str], Any] | None = None,
) -> Starlette:
    web = Web(
        config=config,
        intake=intake,
        my_reports=my_reports,
        inbox=inbox,
        answers=answers,
        registration=registration,
        linking=linking,
        clock=clock,
        signer=Signer(secret),
        telegram_on=telegram_on,
        public_url=public_url or config.web.public_url(),
        templates=Environment(
            loader=PackageLoader("handlers.web", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        ),
    )
    app = Starlette(
        routes=[
            Route("/", pages.rider_page, methods=["GET"]),
            Route("/reports", submit.file_report, methods=["POST"]),
            Route("/my", news.my_reports, methods=["GET"]),
            Route("/my/{report_id}", mine.my_report, methods=["GET"]),
            Route("/my/{report_id}/reply", mine.reply, methods=["POST"]),
            Route("/my/{report_id}/feedback", mine.feedback, methods=["POST"]),
            Route("/me", profile.me, methods=["GET"]),
            Route("/me", profile.register, methods=["POST"]),
            Route("/me/link", profile.link, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *(console_routes() if console is not None else []),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, tile_url=config.web.tile_url),
            # Mobile data is dear: Leaflet goes out as 41 KB instead of 144 KB. Nothing a
            # stranger sends is echoed in a compressed answer (no BREACH oracle).
            Middleware(GZipMiddleware, minimum_size=1024),
        ],
    )
    app.state.web = web
    if console is not None:  # the staff console (handlers/web/console/)
        app.state.console = console(web.templates, web.prefix)
    return app


async def healthz(request: Request) -> PlainTextResponse:
    """For a reverse proxy's or a monitor's checks."""
    return PlainTextResponse("ok")


class SecurityHeaders:
    """Headers every answer carries: scripts only from here, no framing, no sniffing.

    Map tiles are images from the configured tile server, so images may come over https
    (a tile URL with {s} subdomains cannot be named as one host).
    """

    def __init__(self, app: ASGIApp, tile_url: str) -> None:
        self.app = app
        tiles = "http: https:" if tile_url.startswith("http://") else "https:"
        self.headers = [
            (
                b"content-security-policy",
                (
                    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    f"img-src 'self' data: blob: {tiles}; connect-src 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
                ).encode(),
            ),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)
