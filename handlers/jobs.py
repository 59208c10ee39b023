"""Scheduled work (PTB JobQueue, i.e. APScheduler): the application decides, we deliver."""

from __future__ import annotations

import logging

from bot.config import ChatTarget
from bot.ports import DeliveryError
from handlers.context import SuishouContext

log = logging.getLogger(__name__)


async def expire_drafts(context: SuishouContext) -> None:
    """Close drafts nobody finished and tell their riders."""
    for chat_id, reply in await context.services.intake.expire_stale():
        try:
            await context.outbox.send(ChatTarget(chat_id), reply)
        except DeliveryError as exc:
            log.info("expiry notice not delivered", extra={"reason": exc.reason})


async def sweep_deadlines(context: SuishouContext) -> None:
    """Reminders, overdue marks, escalations and closing unanswered resolutions."""
    await context.services.sweep.run()


async def resume_deliveries(context: SuishouContext) -> None:
    """Right after a start: tickets and cards an earlier run left undelivered (killed)."""
    assert context.job is not None
    await context.services.tickets.resume(context.job.data)  # type: ignore[arg-type]


async def weekly_digest(context: SuishouContext) -> None:
    """The scheduled weekly digest (and the catch-up for one missed while the bot was down)."""
    await context.services.digests.send_due()
