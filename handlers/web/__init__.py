"""The web channel: the riders' phone page (any browser, WeChat's included)."""

from __future__ import annotations

from starlette.applications import Starlette

from bot.intake.form import FormIntake
from bot.intake.rider_inbox import RiderInbox
from bot.services import Services
from handlers.web.app import create_app
from handlers.web.console import make_console


def build(
    services: Services,
    *,
    telegram_on: bool,
    secret: bytes | None = None,
) -> tuple[Starlette, FormIntake]:
    """The ASGI app on the application's services, and its intake.

    A report's card is put in the outbox with the report: with Telegram on it is posted to
    its community's chat; without, it waits there while the report is shown on the page.
    """
    config = services.config
    intake = FormIntake(
        config=config,
        db=services.db,
        photos=services.photos,
        router=services.router,
        dispatcher=services.dispatcher,
        clock=services.clock,
        limits=services.limits,
    )
    key = secret if secret is not None else config.web.secret()
    app = create_app(
        config=config,
        intake=intake,
        my_reports=services.my_reports,
        inbox=RiderInbox(db=services.db),
        answers=services.casework.answers,
        registration=services.registration,
        linking=services.linking,
        clock=services.clock,
        secret=key,
        telegram_on=telegram_on,
        console=lambda templates, prefix: make_console(
            services, secret=key, templates=templates, prefix=prefix
        ),
    )
    return app, intake
