"""The staff console: community staff and supervisors work their desk's queue in a browser.

Routes: signin.py (one-time links), sessions.py (the cookie, CSRF, who is signed in),
queue.py (the desk's reports), report.py (one report, its photos, its live version),
actions.py (accept, reply, resolve, transfer, reject), and the county's view (county.py:
figures.py, ledger.py, digest.py, map.py). Every step goes through the same
casework commands as the Telegram card (services.casework, with the page's `seen_status`),
so the rules are the card's and a stale page is refused rather than acting blind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment
from starlette.routing import BaseRoute, Route

from bot.casework.service import Casework
from bot.clock import Clock
from bot.config import Config
from bot.people.sessions import StaffSessions
from bot.people.signin import StaffLinks
from bot.people.staff import StaffDirectory
from bot.services import Services
from handlers.web.console import actions, digest, figures, ledger, live, queue, report, signin
from handlers.web.console import map as county_map
from handlers.web.console.limits import ActionLimits, SigninLimits
from handlers.web.console.sessions import CookieSigner
from storage.database import Database
from storage.photos import PhotoStore


@dataclass
class Console:
    config: Config
    db: Database
    clock: Clock
    staff: StaffDirectory
    casework: Casework  # accept/resolve/transfer/reject/reply at a Seat
    links: StaffLinks
    sessions: StaffSessions
    photos: PhotoStore
    signer: CookieSigner
    limits: SigninLimits
    steps: ActionLimits  # steps per person (a flood of replies reaches a rider's phone)
    templates: Environment
    prefix: str  # the web page's path prefix, ending in "/"
    secure: bool  # cookies get the Secure flag (https)
    ledgers_making: set[int] = field(default_factory=set)  # staff ids (ledger.py)


def make_console(
    services: Services, *, secret: bytes, templates: Environment, prefix: str
) -> Console:
    """The console on the application's services (bot/services.py)."""
    return Console(
        config=services.config,
        db=services.db,
        clock=services.clock,
        staff=services.staff,
        casework=services.casework,
        links=services.staff_links,
        sessions=services.staff_sessions,
        photos=services.photos,
        signer=CookieSigner(secret),
        limits=SigninLimits(services.clock),
        steps=ActionLimits(services.clock),
        templates=templates,
        prefix=prefix,
        secure=services.config.web.secure,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/console", queue.queue, methods=["GET"]),
        Route("/console/version", live.queue_version, methods=["GET"]),
        Route("/console/in/{token}", signin.show, methods=["GET"]),
        Route("/console/in/{token}", signin.use, methods=["POST"]),
        Route("/console/out", signin.sign_out, methods=["POST"]),
        Route("/console/r/{report_id}", report.page, methods=["GET"]),
        Route("/console/r/{report_id}/version", report.version, methods=["GET"]),
        Route("/console/r/{report_id}/photo/{n}", report.photo, methods=["GET"]),
        Route("/console/r/{report_id}/{action}", actions.act, methods=["POST"]),
        # The county's view (county.py), and what a community's desk sees of its own.
        Route("/console/figures", figures.page, methods=["GET"]),
        Route("/console/figures/chart.png", figures.chart, methods=["GET"]),
        Route("/console/ledger", ledger.download, methods=["GET"]),
        Route("/console/digest", digest.page, methods=["GET"]),
        Route("/console/map", county_map.page, methods=["GET"]),
        Route("/console/map/data", county_map.data, methods=["GET"]),
    ]
