"""Who reports what, where, and what staff will do with it: a seeded plan for a crowd."""

from __future__ import annotations

import random

from bot.config import Config
from tests.conftest import wgs
from tests.crowd import Crowd, Desk, Intent
from tests.crowd_people import Rider, Staff
from tests.fake_telegram import FakeTelegram
from tests.images import jpeg

# Where each desk's reports come from (GCJ-02 lat and lon ranges of the example county):
# well inside a boundary, near 南街's centre, or far from every community (the supervisors).
AREAS = {
    "dongguan": ((36.1059, 36.1159), (113.2071, 113.2171)),
    "xiguan": ((36.1059, 36.1159), (113.1951, 113.2051)),
    "nanjie": ((36.0969, 36.1009), (113.2041, 113.2081)),
    "supervisors": ((36.39, 36.41), (113.49, 113.51)),
}
CATEGORIES = ("🧹 环境卫生", "🔥 消防安全", "🚨 社会治安")


def desks_of(config: Config, chats: dict[str, int], topics: dict[str, int]) -> dict[str, Desk]:
    """The dispatcher chats of the example county, by community id (and "supervisors")."""
    desks = {"supervisors": Desk("supervisors", config.supervisors.name, chats["supervisors"])}
    for community in config.communities:
        desks[community.id] = Desk(
            community.id, community.name, chats[community.id], topics.get(community.id)
        )
    return desks


def plan(
    rng: random.Random,
    riders: int,
    each: int,
    *,
    transfer: float = 0.1,
    reopen: float = 0.1,
    even: bool = False,
) -> list[list[Intent]]:
    """`each` reports for each of `riders` riders, spread over the desks that have staff:
    at random (more for the two town communities), or `even`ly, one desk after another (a
    group gets 20 messages a minute from a bot: a short test cannot load one much more)."""
    weights = {"dongguan": 3, "xiguan": 3, "nanjie": 2, "supervisors": 1}
    plans = []
    for r in range(1, riders + 1):
        intents = []
        for k in range(1, each + 1):
            desk = rng.choices(list(weights), list(weights.values()))[0]
            if even:
                desk = list(weights)[((r - 1) * each + k - 1) % len(weights)]
            (lat0, lat1), (lon0, lon1) = AREAS[desk]
            point = wgs(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
            moved = None
            if rng.random() < transfer:
                others = [d for d in weights if d != desk]
                moved = others[list(weights).index(desk) % len(others)] if even else None
                moved = moved or rng.choice(others)
            intents.append(
                Intent(
                    token=f"〔R{r:02d}-{k}〕",
                    point=point,
                    category=rng.choice(CATEGORIES),
                    desk=desk,
                    transfer_to=moved,
                    reopen=rng.random() < reopen,
                )
            )
        plans.append(intents)
    return plans


def populate(crowd: Crowd, tg: FakeTelegram, plans: list[list[Intent]], staff_speed: int) -> None:
    """A rider per plan, and one staff member in each desk's chat (`staff_speed` a tick)."""
    photos = [jpeg(320, 240, seed=s) for s in range(6)]
    for n, intents in enumerate(plans, start=1):
        person = tg.person(f"骑手{n:02d}")
        crowd.riders.append(Rider(crowd, person, intents=intents, photos=photos))
    for key in ("dongguan", "xiguan", "nanjie", "supervisors"):
        desk = crowd.desks[key]
        person = tg.person(f"{desk.name}值班员")
        tg.add_member(desk.chat_id, person)
        crowd.staff.append(Staff(crowd, person, per_tick=staff_speed, desk=desk))
