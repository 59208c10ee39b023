"""Staff persons, their channel accounts and their desks (see tables.staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import staff, staff_accounts, staff_grants
from storage.upsert import insert_unless_there


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    revoked_at: datetime | None


def _row(r: object) -> StaffRow:
    return StaffRow(r.id, r.name, r.revoked_at)  # type: ignore[attr-defined]


async def get(conn: AsyncConnection, staff_id: int) -> StaffRow | None:
    row = (await conn.execute(select(staff).where(staff.c.id == staff_id))).first()
    return _row(row) if row else None


async def by_account(conn: AsyncConnection, channel: str, external_id: str) -> StaffRow | None:
    row = (
        await conn.execute(
            select(staff)
            .join(staff_accounts, staff_accounts.c.staff_id == staff.c.id)
            .where(
                staff_accounts.c.channel == channel, staff_accounts.c.external_id == external_id
            )
        )
    ).first()
    return _row(row) if row else None


async def create(conn: AsyncConnection, name: str, now: datetime) -> StaffRow:
    result = await conn.execute(insert(staff).values(name=name[:64], created_at=now))
    key = result.inserted_primary_key
    assert key is not None
    return StaffRow(int(key[0]), name[:64], None)


async def add_account(
    conn: AsyncConnection, staff_id: int, channel: str, external_id: str, now: datetime
) -> bool:
    """Whether the account is now this person's: two first actions racing, the second
    finds the account taken (and the caller reads whose it is)."""
    result = await conn.execute(
        insert_unless_there(conn, staff_accounts, ["channel", "external_id"]).values(
            channel=channel, external_id=external_id, staff_id=staff_id, created_at=now
        )
    )
    return result.rowcount == 1


async def forget(conn: AsyncConnection, staff_id: int) -> None:
    """A person made in vain (their account was made by a racing request)."""
    await conn.execute(delete(staff).where(staff.c.id == staff_id))


async def rename(conn: AsyncConnection, staff_id: int, name: str) -> None:
    await conn.execute(update(staff).where(staff.c.id == staff_id).values(name=name[:64]))


async def grant(conn: AsyncConnection, staff_id: int, desk: str, now: datetime) -> None:
    """The person may work from `desk` (again, if it had been revoked: a grant after a
    revocation reinstates the person, whose other desks stay revoked)."""
    await conn.execute(update(staff).where(staff.c.id == staff_id).values(revoked_at=None))
    changed = await conn.execute(
        update(staff_grants)
        .where(staff_grants.c.staff_id == staff_id, staff_grants.c.desk == desk)
        .values(granted_at=now, revoked_at=None)
    )
    if changed.rowcount == 0:
        await conn.execute(
            insert_unless_there(conn, staff_grants, ["staff_id", "desk"]).values(
                staff_id=staff_id, desk=desk, granted_at=now
            )
        )


async def ungrant(conn: AsyncConnection, staff_id: int, desks: list[str], now: datetime) -> int:
    """The person may no longer work from these desks (others stay); how many grants ended."""
    changed = await conn.execute(
        update(staff_grants)
        .where(
            staff_grants.c.staff_id == staff_id,
            staff_grants.c.desk.in_(desks),
            staff_grants.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(changed.rowcount or 0)


async def desks(conn: AsyncConnection, staff_id: int) -> list[str]:
    rows = await conn.execute(
        select(staff_grants.c.desk)
        .where(staff_grants.c.staff_id == staff_id, staff_grants.c.revoked_at.is_(None))
        .order_by(staff_grants.c.granted_at, staff_grants.c.desk)
    )
    return [r.desk for r in rows]


async def revoke(conn: AsyncConnection, staff_id: int, now: datetime) -> bool:
    """The person may no longer act anywhere (a chat too); whether they were active."""
    changed = await conn.execute(
        update(staff)
        .where(staff.c.id == staff_id, staff.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await conn.execute(
        update(staff_grants)
        .where(staff_grants.c.staff_id == staff_id, staff_grants.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(changed.rowcount)


async def everyone(conn: AsyncConnection) -> list[tuple[StaffRow, list[str]]]:
    rows = await conn.execute(
        select(staff, staff_grants.c.desk)
        .select_from(
            staff.outerjoin(
                staff_grants,
                and_(staff_grants.c.staff_id == staff.c.id, staff_grants.c.revoked_at.is_(None)),
            )
        )
        .order_by(staff.c.id, staff_grants.c.desk)
    )
    people: dict[int, tuple[StaffRow, list[str]]] = {}
    for r in rows:
        entry = people.setdefault(r.id, (_row(r), []))
        if r.desk is not None:
            entry[1].append(r.desk)
    return list(people.values())
