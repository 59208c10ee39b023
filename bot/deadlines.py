"""When a report must be handled by: each category has its own handling time."""

from __future__ import annotations

from datetime import datetime

from bot.config import Category


def due_at(created_at: datetime, category: Category) -> datetime:
    """The handling deadline of a report of `category` received at `created_at`."""
    return created_at + category.deadline
