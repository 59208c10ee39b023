"""A community removed from the configuration leaves its reports behind: every view counts
them under the supervisors, who answer for them, so a desk's lines add up to the total."""

from __future__ import annotations

from sqlalchemy import update

from bot.reporting.ledger import parse_range
from storage.tables import reports
from tests.conftest import IN_XIGUAN, Stage
from tests.test_casework import reported
from tests.test_stats_command import stats_in

SUPERVISORS = "壶关县网格化服务管理中心"


async def test_reports_of_a_removed_community_are_counted_where_they_are_shown(
    stage: Stage,
) -> None:
    await reported(stage)  # #1 东关, open
    await reported(stage, point=IN_XIGUAN, category="🚨 社会治安", name="乙")  # #2 西关
    async with stage.services.db.transaction() as conn:  # a community since merged away
        await conn.execute(update(reports).where(reports.c.id == 2).values(community_id="old"))
    stage.clock.advance(days=10)
    text = await stats_in(stage, "supervisors")
    assert "期末未办结 2 件，其中超期 2 件" in text  # the county's total
    lines = [line for line in text.splitlines() if "未办结 1（超期 1）" in line]
    assert [line.split("：")[0][3:] for line in lines] == ["东关社区", SUPERVISORS]

    today = stage.clock.now().date()
    sheets = await stage.services.ledger.sheets(parse_range([], today, stage.config.timezone))
    (row,) = [r for r in sheets[0].rows if r[0] == 2]
    assert row[1] == SUPERVISORS  # the ledger names who answers for it...
    summary = {r[0]: dict(zip(sheets[1].headers, r, strict=True)) for r in sheets[1].rows}
    assert summary[SUPERVISORS]["应结案"] == 1  # ...and counts it there
    assert sum(r["应结案"] for r in summary.values()) == 2
