"""The callback context every handler receives, with typed access to the application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

if TYPE_CHECKING:
    from bot.services import Services
    from handlers.courier import TelegramCourier

# PTB's own default for user and chat data: we keep nothing there.
Data = dict[Any, Any]
# The Bot is an ExtBot whatever the rate limiter (its arguments' type is the limiter's).
SuishouBot = ExtBot[Any]


class BotData(TypedDict):
    """The application's bot_data, filled by bot/app.py before the first update."""

    services: Services
    courier: TelegramCourier


class SuishouContext(CallbackContext[SuishouBot, Data, Data, BotData]):
    @property
    def services(self) -> Services:
        return self.bot_data["services"]

    @property
    def courier(self) -> TelegramCourier:
        return self.bot_data["courier"]

    @property
    def jobs(self) -> JobQueue[SuishouContext] | None:
        """`job_queue`, typed: PTB types it `JobQueue[ST]` without binding ST to the context
        class, so no callback would fit; its jobs are called with this context."""
        return cast("JobQueue[SuishouContext] | None", self.job_queue)


SuishouApp = Application[SuishouBot, SuishouContext, Data, Data, BotData, JobQueue[SuishouContext]]
