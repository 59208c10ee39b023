"""Scheduled work (PTB JobQueue, i.e. APScheduler): the application decides, we deliver."""

from __future__ import annotations

import logging

from handlers.telegram.context import SuishouContext

log = logging.getLogger(__name__)


async def expire_drafts(context: SuishouContext) -> None:
    """Close drafts nobody finished and tell their riders."""
    await context.services.intake.expire_stale()


async def sweep_deadlines(context: SuishouContext) -> None:
    """Reminders, overdue marks, escalations and closing unanswered resolutions."""
    await context.services.sweep.run()


async def weekly_digest(context: SuishouContext) -> None:
    """The scheduled weekly digest (and the catch-up for one missed while the bot was down)."""
    await context.services.digests.send_due()
