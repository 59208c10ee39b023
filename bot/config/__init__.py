"""Configuration: a TOML file read into frozen dataclasses, with every problem reported.

model.py says what a deployment is made of; loading.py reads a file into it (reader.py walks
the tree and collects problems; places.py, sections.py and web.py read their tables).
"""

from bot.config.loading import load_config, parse_config
from bot.config.model import (
    COORDINATE_SYSTEMS,
    LANGUAGES,
    CaseworkSettings,
    Category,
    ChatTarget,
    Community,
    Config,
    DigestSettings,
    LimitSettings,
    PointsRules,
    Supervisors,
)
from bot.config.reader import ConfigError
from bot.config.sections import cron_trigger
from bot.config.web import WebSettings

__all__ = [
    "COORDINATE_SYSTEMS",
    "LANGUAGES",
    "CaseworkSettings",
    "Category",
    "ChatTarget",
    "Community",
    "Config",
    "ConfigError",
    "DigestSettings",
    "LimitSettings",
    "PointsRules",
    "Supervisors",
    "WebSettings",
    "cron_trigger",
    "load_config",
    "parse_config",
]
