"""The web channel: the riders' phone page (any browser, WeChat's included)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette

from bot.form_intake import FormIntake
from bot.services import Services
from handlers.web.app import create_app


def build(
    services: Services,
    *,
    telegram_on: bool,
    secret: bytes | None = None,
    deliver: Callable[[int], Awaitable[object]] | None = None,
) -> tuple[Starlette, FormIntake]:
    """The ASGI app on the application's services, and its intake (to drain at a stop).

    With Telegram on, a report's card is posted to its community's chat once the report is
    committed (`deliver`, by default Tickets.deliver); without it the report is kept and
    shown on the rider's page.
    """
    config = services.config
    intake = FormIntake(
        config=config,
        db=services.db,
        photos=services.photos,
        router=services.router,
        dispatcher=services.dispatcher,
        clock=services.clock,
        deliver=(deliver or services.tickets.deliver) if telegram_on else None,
    )
    app = create_app(
        config=config,
        intake=intake,
        my_reports=services.my_reports,
        secret=secret if secret is not None else config.web.secret(),
        telegram_on=telegram_on,
    )
    return app, intake
