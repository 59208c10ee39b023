"""`suishou staff invite|list|revoke`: staff accounts for the web console, from the terminal.

An invite makes a person with a desk (a community, or the county with --supervisor) and
prints a one-time link (7 days) built from [web] base_url, to hand over in person or by a
trusted channel. Revoking a person ends their grants, their unused links and every
session at once. Names are shown, never tokens of existing links (only hashes are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import Config
from bot.people.sessions import StaffSessions
from bot.people.signin import INVITE_TTL, StaffLinks
from bot.people.staff import COUNTY, StaffDirectory
from storage.database import Database
from storage.db import create_engine, migrate

NAME_MAX = 64


def add_parser(sub: Any) -> None:
    staff = sub.add_parser("staff", help="console accounts: invite, list, revoke")
    staff.add_argument("--config", type=Path, default=Path("config.toml"))
    what = staff.add_subparsers(dest="staff_command", required=True)
    invite = what.add_parser("invite", help="make a person and print their one-time invite link")
    invite.add_argument("--name", required=True, help="the person's name, as colleagues know it")
    desk = invite.add_mutually_exclusive_group(required=True)
    desk.add_argument("--community", help="the id of their community in the configuration")
    desk.add_argument("--supervisor", action="store_true", help="the county's desk")
    what.add_parser("list", help="everyone, with their desks")
    revoke = what.add_parser("revoke", help="end a person's access and sessions at once")
    revoke.add_argument("staff_id", type=int, metavar="ID")


def run(config: Config, args: argparse.Namespace) -> int:
    return asyncio.run(_run(config, args))


async def _run(config: Config, args: argparse.Namespace) -> int:
    engine = create_engine(config.database_url)
    await migrate(engine)
    db = Database(engine)
    clock = SystemClock()
    staff = StaffDirectory(db=db, clock=clock)
    try:
        if args.staff_command == "invite":
            return await _invite(config, db, staff, args)
        if args.staff_command == "list":
            return await _list(config, staff)
        return await _revoke(config, db, staff, args.staff_id)
    finally:
        await db.close()


async def _invite(
    config: Config, db: Database, staff: StaffDirectory, args: argparse.Namespace
) -> int:
    name = " ".join(args.name.split())
    if not name or len(name) > NAME_MAX:
        print(f"problem: --name: give a name of 1 to {NAME_MAX} characters", file=sys.stderr)
        return 1
    desk = COUNTY if args.supervisor else args.community
    if desk != COUNTY and config.community(desk) is None:
        known = ", ".join(c.id for c in config.communities)
        print(f"problem: --community: no community {desk!r} (known: {known})", file=sys.stderr)
        return 1
    links = StaffLinks(config=config, db=db, clock=SystemClock(), staff=staff)
    link = await links.invite(name, desk)
    place = config.supervisors.name if desk == COUNTY else config.desk_name(desk)
    print(f"staff #{link.person.id} {name} at {place} ({desk})")
    print(f"invite link (works once, for {INVITE_TTL.days} days):")
    print(link.url)
    if config.web.base_url is None:
        print("note: web.base_url is not set, so the link names this machine's address")
    return 0


async def _list(config: Config, staff: StaffDirectory) -> int:
    people = await staff.everyone()
    if not people:
        print("no staff yet: `suishou staff invite --community ID --name NAME`")
    for person, desks in people:
        state = "revoked" if person.revoked else ", ".join(desks) or "no web desk"
        print(f"#{person.id}\t{person.name}\t{state}")
    return 0


async def _revoke(config: Config, db: Database, staff: StaffDirectory, staff_id: int) -> int:
    person = await staff.get(staff_id)
    if person is None:
        print(f"problem: no staff #{staff_id} (see `suishou staff list`)", file=sys.stderr)
        return 1
    clock = SystemClock()
    await staff.revoke(staff_id)
    await StaffLinks(config=config, db=db, clock=clock, staff=staff).void_all(staff_id)
    ended = await StaffSessions(db=db, clock=clock, staff=staff).end_all(staff_id)
    print(f"staff #{staff_id} {person.name}: revoked; {ended} session(s) ended")
    return 0
