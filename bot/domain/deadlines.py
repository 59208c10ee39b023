"""When a report must be handled by.

Each category has its own handling time, counted in plain hours or, for categories marked
``working_hours = true``, in the working time of the office calendar (see workcalendar).
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Category, Config
from bot.domain.workcalendar import due_at as _due_at


def due_at(config: Config, created_at: datetime, category: Category) -> datetime:
    """The handling deadline of a report of `category` received at `created_at`."""
    calendar = config.calendar if category.working_hours else None
    return _due_at(created_at, category.deadline, calendar)
