"""The `[web]` settings: where the rider page listens, its public address, its secret, its map.

Read by `bot.config` with the same key-path problems as the rest of the file. The secret that
signs the riders' device cookies comes from an environment variable when one is set; otherwise
it is made once, on the first start, and kept in a file beside the database, so riders stay
recognised across restarts without anyone having to invent a key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from bot.config.reader import Reader

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = "© OpenStreetMap contributors"
MIN_SECRET_CHARS = 32
DATUMS = ("wgs84", "gcj02")


@dataclass(frozen=True)
class WebSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # The address riders' phones open (links, QR codes); None: http://host:port/.
    base_url: str | None = None
    secret_env: str = "SUISHOU_WEB_SECRET"
    secret_file: Path = Path("data/web_secret")
    tile_url: str = DEFAULT_TILES
    tile_subdomains: str = "abc"
    tile_datum: str = "wgs84"  # what the tiles are drawn in: gcj02 for 高德, 腾讯, 天地图's GCJ
    tile_attribution: str = DEFAULT_ATTRIBUTION

    def public_url(self, port: int | None = None) -> str:
        """The rider link, ending in '/'; `port` is the one really bound (port 0 in tests)."""
        if self.base_url:
            return self.base_url.rstrip("/") + "/"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port if port is not None else self.port}/"

    @property
    def secure(self) -> bool:
        """Cookies get the Secure flag when riders come over HTTPS."""
        return (self.base_url or "").startswith("https://")

    def secret(self) -> bytes:
        """The key that signs device cookies and form tokens: the environment variable's
        value, else the kept file's (made on first use, readable by its owner only)."""
        value = os.environ.get(self.secret_env)
        if value:
            return value.encode()
        try:
            return self.secret_file.read_text(encoding="ascii").strip().encode()
        except FileNotFoundError:
            pass
        self.secret_file.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting at once agree on the first one's key.
        try:
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.secret_file.read_text(encoding="ascii").strip().encode()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(made + "\n")
        return made.encode()


KEYS = {
    "host",
    "port",
    "base_url",
    "secret_env",
    "secret_file",
    "tile_url",
    "tile_subdomains",
    "tile_datum",
    "tile_attribution",
}


def parse_web(r: Reader, raw: Mapping[str, Any], base_dir: Path) -> WebSettings:
    """`[web]`, every problem reported with its key path."""
    table = raw.get("web", {})
    if not isinstance(table, dict):
        r.problem("web", "expected a table")
        return WebSettings(secret_file=base_dir / WebSettings.secret_file)
    p = "web"
    r.unknown_keys(table, p, KEYS)
    d = WebSettings()
    host = r.get(table, p, "host", str, d.host) or d.host
    port = r.get(table, p, "port", int, d.port)
    if port is not None and not 0 <= port <= 65535:
        r.problem(f"{p}.port", "must be between 0 and 65535 (0: any free port)")
    base_url = r.get(table, p, "base_url", str, None)
    if base_url is not None:
        _check_base_url(r, base_url)
    secret_env = r.get(table, p, "secret_env", str, d.secret_env) or d.secret_env
    value = os.environ.get(secret_env)
    if value and len(value) < MIN_SECRET_CHARS:
        r.problem(
            f"{p}.secret_env",
            f"{secret_env} holds {len(value)} characters; use at least {MIN_SECRET_CHARS} "
            "(e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')",
        )
    secret_file = Path(r.get(table, p, "secret_file", str, str(d.secret_file)) or d.secret_file)
    tile_url = r.get(table, p, "tile_url", str, d.tile_url) or d.tile_url
    if not all(part in tile_url for part in ("{z}", "{x}", "{y}")):
        r.problem(f"{p}.tile_url", "must contain {z}, {x} and {y}")
    elif not tile_url.startswith(("https://", "http://", "/")):
        r.problem(f"{p}.tile_url", "must start with https://, http:// or / (a local path)")
    subdomains = r.get(table, p, "tile_subdomains", str, d.tile_subdomains) or d.tile_subdomains
    datum = r.get(table, p, "tile_datum", str, d.tile_datum) or d.tile_datum
    if datum not in DATUMS:
        r.problem(f"{p}.tile_datum", "must be wgs84 or gcj02 (高德, 腾讯 and 天地图's GCJ tiles)")
        datum = d.tile_datum
    attribution = r.get(table, p, "tile_attribution", str, d.tile_attribution)
    return WebSettings(
        host=host,
        port=port if port is not None and 0 <= port <= 65535 else d.port,
        base_url=base_url.rstrip("/") + "/" if base_url else None,
        secret_env=secret_env,
        secret_file=secret_file if secret_file.is_absolute() else base_dir / secret_file,
        tile_url=tile_url,
        tile_subdomains=subdomains,
        tile_datum=datum,
        tile_attribution=attribution if attribution is not None else d.tile_attribution,
    )


def _check_base_url(r: Reader, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        r.problem("web.base_url", "expected an address such as https://suishou.example.cn/")
    elif parts.query or parts.fragment:
        r.problem("web.base_url", "must not have a ?query or #fragment")


def notes(web: WebSettings) -> list[str]:
    """What check-config says about a working but doubtful [web] (never an error)."""
    found = []
    if web.base_url is None and web.host not in ("127.0.0.1", "localhost", "::1"):
        found.append(
            "web.base_url: not set, so links and QR codes name "
            f"{web.public_url()}; set the address phones really open (https)"
        )
    elif (
        web.base_url
        and not web.secure
        and urlsplit(web.base_url).hostname
        not in (
            "127.0.0.1",
            "localhost",
        )
    ):
        found.append(
            "web.base_url: phone browsers give their location only to https pages; "
            "serve the rider page behind an HTTPS reverse proxy"
        )
    return found
