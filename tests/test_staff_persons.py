"""Staff are persons: one person whether they act from a Telegram chat or another channel.

The seat commands (services.casework.accept/resolve/transfer/reject/reply) are what the web
console calls; here they run beside the Telegram card, so a step taken one way shows the
other way, and a person who accepted in Telegram may resolve elsewhere.
"""

from __future__ import annotations

import pytest

from bot.casework.service import Done
from bot.domain.lifecycle import Refused
from bot.people.staff import COUNTY, Seat, StaffPerson
from tests.conftest import NEAR_NANJIE, Stage, words
from tests.test_casework import accept, card_of, reported, row, staff_of


async def seat_of(stage: Stage, desk: str, name: str = "网页值班员") -> Seat:
    people = stage.services.staff
    person = await people.create(name)
    await people.grant(person.id, desk)
    return Seat(person, desk)


async def test_a_telegram_staff_member_is_one_person_across_presses(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    handler = (await row(stage)).handler_id
    person = await stage.services.staff.from_account("telegram", str(zhang.id), "张三")
    assert handler == person.id
    # Renamed in Telegram: the same person, under the new name.
    again = await stage.services.staff.from_account("telegram", str(zhang.id), "张三丰")
    assert again.id == person.id and again.name == "张三丰"
    assert len(await stage.services.staff.everyone()) == 1


async def test_a_step_at_a_seat_edits_the_card_and_tells_the_rider(stage: Stage) -> None:
    rider = await reported(stage)
    seat = await seat_of(stage, "dongguan", "刘芳")
    done = await stage.services.casework.accept(seat, 1, seen_status="dispatched")
    await stage.delivered()
    assert isinstance(done, Done) and done.report.status == "accepted"
    assert "状态：处理中（刘芳）" in words(card_of(stage, "dongguan"))
    assert "工单 #1 已被社区受理" in rider.last_bot_message()["text"]
    done = await stage.services.casework.resolve(seat, 1, "  已清理  楼道 ")
    await stage.delivered()
    assert done.key == "staff.resolved"
    notice = rider.last_bot_message()
    assert "已清理 楼道" in notice["text"]
    assert "状态：已办结，待骑手确认" in words(card_of(stage, "dongguan"))


async def test_accepted_in_telegram_resolved_elsewhere_by_the_same_person(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    li = staff_of(stage, "dongguan", "李四")
    await accept(stage, zhang)
    people = stage.services.staff
    zhang_person = await people.from_account("telegram", str(zhang.id), "张三")
    li_person = await people.from_account("telegram", str(li.id), "李四")
    with pytest.raises(Refused) as refused:
        await stage.services.casework.resolve(Seat(li_person, "dongguan"), 1, "我来办结")
    assert refused.value.key == "refused.claimed_by_other"
    await stage.services.casework.resolve(Seat(zhang_person, "dongguan"), 1, "张三办结")
    assert (await row(stage)).status == "resolved"


async def test_another_desk_cannot_tell_a_missing_report_from_someone_elses(
    stage: Stage,
) -> None:
    await reported(stage)
    elsewhere = await seat_of(stage, "xiguan")
    for ticket in (1, 99):
        with pytest.raises(Refused) as refused:
            await stage.services.casework.accept(elsewhere, ticket)
        assert refused.value.key == "refused.no_ticket_desk"
    assert (await row(stage)).status == "dispatched"


async def test_the_county_desk_acts_as_supervisor_on_any_report(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    county = await seat_of(stage, COUNTY, "县中心王主任")
    done = await stage.services.casework.transfer(county, 1, "nanjie")
    await stage.delivered()
    assert done.report.community_id == "nanjie" and done.report.handler_id is None
    assert "工单 #1" in words(card_of(stage, "nanjie"))


async def test_a_page_that_showed_an_older_state_is_refused(stage: Stage) -> None:
    await reported(stage)
    seat = await seat_of(stage, "dongguan")
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)  # meanwhile, in Telegram
    with pytest.raises(Refused) as refused:
        await stage.services.casework.reject(seat, 1, "not_hazard", seen_status="dispatched")
    assert refused.value.key == "refused.changed_page"
    assert (await row(stage)).status == "accepted"


async def test_a_revoked_person_is_refused_and_bad_input_changes_nothing(stage: Stage) -> None:
    await reported(stage, point=NEAR_NANJIE)
    seat = await seat_of(stage, "nanjie")
    with pytest.raises(Refused) as refused:
        await stage.services.casework.resolve(seat, 1, "x")  # not accepted yet
    assert refused.value.key == "refused.accept_first"
    await stage.services.casework.accept(seat, 1)
    with pytest.raises(Refused) as refused:
        await stage.services.casework.resolve(seat, 1, "   ")
    assert refused.value.key == "staff.note_needed"
    with pytest.raises(Refused):
        await stage.services.casework.reject(seat, 1, "because")
    assert await stage.services.staff.revoke(seat.person.id)
    revoked = await stage.services.staff.get(seat.person.id)
    assert revoked == StaffPerson(seat.person.id, seat.person.name, revoked=True)
    assert await stage.services.staff.desks(seat.person.id) == []
    with pytest.raises(Refused) as refused:
        await stage.services.casework.resolve(Seat(revoked, "nanjie"), 1, "已处理")
    assert refused.value.key == "refused.revoked"
    assert (await row(stage)).status == "accepted"


async def test_a_reply_from_a_seat_reaches_the_rider_without_naming_staff(stage: Stage) -> None:
    rider = await reported(stage)
    seat = await seat_of(stage, "dongguan", "刘芳")
    done = await stage.services.casework.reply(seat, 1, "请问具体在几号楼？")
    await stage.delivered()
    assert done.key == "staff.relayed"
    said = rider.last_bot_message()["text"]
    assert "请问具体在几号楼？" in said and "刘芳" not in said
    with pytest.raises(Refused) as refused:
        await stage.services.casework.reply(seat, 1, "   ")
    assert refused.value.key == "staff.empty_reply"
