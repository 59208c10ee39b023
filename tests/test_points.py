"""Points rules, against hand-computed standings."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import PointsRules
from bot.domain.points import ReportCredit, Standing, board, points_for
from bot.reporting.metrics import Period

RULES = PointsRules(accepted=2, fixed_bonus=3)
NOV = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def credit(
    rider: int, day: int, accepted: bool, outcome: str | None, month: int = 11
) -> ReportCredit:
    return ReportCredit(rider, datetime(2026, month, day, 8, tzinfo=UTC), accepted, outcome)


def test_points_per_report() -> None:
    assert points_for(credit(1, 1, False, None), RULES) == 0  # not yet accepted
    assert points_for(credit(1, 1, True, None), RULES) == 2
    assert points_for(credit(1, 1, True, "fixed"), RULES) == 5
    assert points_for(credit(1, 1, True, "rejected"), RULES) == 0  # rejected: nothing
    assert points_for(credit(1, 1, False, "rejected"), RULES) == 0


def test_board_ranks_with_ties_and_ignores_other_months() -> None:
    credits = [
        credit(1, 2, True, "fixed"),  # rider 1: 5
        credit(1, 3, True, None),  # rider 1: +2 = 7
        credit(2, 4, True, "fixed"),  # rider 2: 5
        credit(2, 5, False, None),  # rider 2: +0 = 5, 2 reports
        credit(3, 6, True, "fixed"),  # rider 3: 5, 1 report
        credit(4, 7, True, "rejected"),  # rider 4: 0
        credit(5, 30, True, "fixed", month=10),  # October: not in November's board
    ]
    assert board(credits, RULES, NOV) == [
        Standing(1, 7, 2, 1),
        Standing(2, 5, 2, 2),
        Standing(3, 5, 1, 2),
        Standing(4, 0, 1, 4),
    ]
    assert board([], RULES, NOV) == []
