"""The callback context every handler receives, with typed access to the application."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.services import Services
    from handlers.courier import TelegramCourier


class SuishouContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def services(self) -> Services:
        return cast("Services", self.bot_data["services"])

    @property
    def courier(self) -> TelegramCourier:
        return cast("TelegramCourier", self.bot_data["courier"])


SuishouApp = Application[ExtBot, SuishouContext, dict, dict, dict, object]
