"""`suishou staff invite|list|revoke` from the terminal: a person with a desk and a one-time
invite link; everyone listed with their desks; a revocation ends sessions at once."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import SystemClock
from bot.config import load_config
from bot.people.sessions import StaffSessions
from bot.people.signin import StaffLinks
from bot.people.staff import StaffDirectory
from storage.database import Database
from storage.db import create_engine
from tests.conftest import ROOT
from tests.databases import database_url

INVITE = re.compile(r"^https://suishou\.example\.cn/console/in/[A-Za-z0-9_-]{43}$", re.M)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace(
        'database_url = "sqlite+aiosqlite:///data/suishou.db"',
        f'database_url = "{database_url(tmp_path)}"',
    )
    text = text.replace(
        '# base_url = "https://suishou.example.cn/"', 'base_url = "https://suishou.example.cn/"'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invite_list_and_revoke(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(config_file)
    assert (
        main(["staff", "--config", cfg, "invite", "--community", "xiguan", "--name", "李四"]) == 0
    )
    out = capsys.readouterr().out
    assert "staff #1 李四 at 西关社区 (xiguan)" in out and "7 days" in out
    link = INVITE.search(out)
    assert link, out
    assert main(["staff", "--config", cfg, "invite", "--supervisor", "--name", "王主任"]) == 0
    assert "(county)" in capsys.readouterr().out
    assert main(["staff", "--config", cfg, "list"]) == 0
    listed = capsys.readouterr().out
    assert "#1\t李四\txiguan" in listed and "#2\t王主任\tcounty" in listed

    async def sign_in_with(url: str) -> str:
        config = load_config(config_file)
        db = Database(create_engine(config.database_url))
        staff = StaffDirectory(db=db, clock=SystemClock())
        used = await StaffLinks(config=config, db=db, clock=SystemClock(), staff=staff).use(
            url.rsplit("/", 1)[-1]
        )
        assert used is not None and used.desk == "xiguan"
        session = await StaffSessions(db=db, clock=SystemClock(), staff=staff).start(used)
        await db.close()
        return session

    async def seat_of(session: str) -> object:
        config = load_config(config_file)
        db = Database(create_engine(config.database_url))
        staff = StaffDirectory(db=db, clock=SystemClock())
        seat = await StaffSessions(db=db, clock=SystemClock(), staff=staff).seat(session)
        await db.close()
        return seat

    session = asyncio.run(sign_in_with(link.group(0)))
    assert asyncio.run(seat_of(session)) is not None
    assert main(["staff", "--config", cfg, "revoke", "1"]) == 0
    assert "staff #1 李四: revoked; 1 session(s) ended" in capsys.readouterr().out
    assert asyncio.run(seat_of(session)) is None
    assert main(["staff", "--config", cfg, "list"]) == 0
    assert "#1\t李四\trevoked" in capsys.readouterr().out


def test_bad_input_is_said_plainly(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(config_file)
    assert main(["staff", "--config", cfg, "invite", "--community", "nowhere", "--name", "x"]) == 1
    err = capsys.readouterr().err
    assert "--community: no community 'nowhere'" in err and "xiguan" in err
    assert main(["staff", "--config", cfg, "invite", "--community", "xiguan", "--name", " "]) == 1
    assert "--name" in capsys.readouterr().err
    assert main(["staff", "--config", cfg, "revoke", "99"]) == 1
    assert "no staff #99" in capsys.readouterr().err
    assert main(["staff", "--config", cfg, "list"]) == 0
    assert "no staff yet" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: one desk or the other, not both
        main(
            ["staff", "--config", cfg, "invite", "--supervisor", "--community", "x", "--name", "y"]
        )
