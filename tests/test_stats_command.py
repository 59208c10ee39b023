"""/stats in a dispatcher chat and in the supervisors' chat, on a seeded history."""

from __future__ import annotations

from tests.conftest import IN_XIGUAN, Stage
from tests.test_casework import accept, card_of, reported, resolve, staff_of


async def stats_in(stage: Stage, community: str, args: str = "") -> str:
    someone = staff_of(stage, community, "值班员")
    chat = stage.tg.chat(stage.chats[community])
    before = len(stage.tg.bot_messages(stage.chats[community]))
    await stage.send(someone.command(f"/stats {args}".strip(), chat=chat))
    # /stats runs beside other updates: wait for its answer.
    await stage.until(lambda: len(stage.tg.bot_messages(stage.chats[community])) > before)
    return stage.tg.bot_messages(stage.chats[community])[-1]["text"]


async def test_stats_for_a_community_and_for_the_county(stage: Stage) -> None:
    # #1 东关, fire, fixed within 2 h and confirmed; #2 西关, order, rejected after 1 h;
    # #3 东关, fire, still open and overdue by the time we ask.
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    stage.clock.advance(hours=2)
    await resolve(stage, zhang, "已清理")
    await stage.send(rider.press(rider.last_bot_message(), "✅ 已解决"))
    await reported(stage, point=IN_XIGUAN, category="🚨 社会治安", name="乙")
    west = staff_of(stage, "xiguan", "赵六")
    stage.clock.advance(hours=1)
    await stage.send(west.press(card_of(stage, "xiguan", 2), "⛔ 驳回"))
    await stage.send(west.press(card_of(stage, "xiguan", 2), "不属于隐患"))
    await reported(stage, category="🔥 消防安全", name="丙")  # same spot: told it is similar
    stage.clock.advance(days=2)

    text = await stats_in(stage, "dongguan", "7")
    assert "东关社区</b>" not in text  # the fake shows plain text
    assert "东关社区 · 近 7 天" in text
    assert "收到 2 件 · 应结案 2 件 · 已办结 1 件（修复 1，驳回 0）" in text
    assert "办结率 50.0% · 按期办结率 50.0%" in text
    assert "办结用时中位数 2.0小时 · 90% 在 2.0小时 内" in text
    assert "返工率 0% · 满意率 100%（1 条反馈）· 转派 0 次" in text
    assert "期末未办结 1 件，其中超期 1 件" in text

    county = await stats_in(stage, "supervisors")
    lines = county.split("\n")
    assert "全县 · 近 30 天" in lines[0]
    assert lines[1].startswith("1. 西关社区：办结率 100%（1/1）")
    assert lines[2].startswith("2. 东关社区：办结率 50.0%（1/2）")
    assert "收到 3 件 · 应结案 3 件 · 已办结 2 件（修复 1，驳回 1）" in county


async def test_stats_elsewhere_is_explained(stage: Stage) -> None:
    outsider = stage.person("路人")
    group = stage.tg.new_group("骑手群", members=[outsider.user])
    await stage.send(outsider.command("/stats", chat=group))
    answer = await stage.until(lambda: stage.tg.bot_messages(group["id"])[-1])
    assert answer["text"] == "本群不是任何社区的派单群。"
