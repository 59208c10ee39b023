"""Benchmark the riders' web page: what a phone downloads, and the server's time per request.

Run from the repository root: ``python bench/bench_web.py [-n 50]``. Issue 10's targets:
- page weight (HTML + CSS + JS of the page, map tiles and Leaflet excluded) < 100 KB;
- server time for a submit with a 1 MB photo, upload excluded, p95 < 150 ms;
- a rider page served in < 20 ms.

Requests go through httpx's ASGITransport: the whole app (routing, cookie and token checks,
multipart parsing, photo processing, SQLite on disk) runs, but no socket, so the upload's
network time is excluded by construction. Figures are medians and p95 over `-n` requests;
``--quick`` (what tests/test_benchmarks.py runs) does 3 of each with a small photo.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import pathlib
import re
import statistics
import sys
import tempfile
import time
import tomllib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from bot.config import parse_config  # noqa: E402
from bot.delivery.outbox import WEB  # noqa: E402
from bot.domain.geo import LatLon, gcj02_to_wgs84  # noqa: E402
from bot.offline import NoMembers  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers import web  # noqa: E402
from handlers.web.courier import WebCourier  # noqa: E402

STATIC = REPO_ROOT / "handlers" / "web" / "static"
POINT = gcj02_to_wgs84(LatLon(36.1109, 113.2001))  # in 西关社区


def photo_of_about(size_bytes: int) -> bytes:
    """A noisy JPEG (noise does not compress) of roughly this many bytes."""
    side = 256
    while True:
        out = io.BytesIO()
        Image.effect_noise((side, side * 3 // 4), 40).convert("RGB").save(out, "JPEG", quality=90)
        if out.tell() >= size_bytes or side > 4000:
            return out.getvalue()
        side = int(side * 1.25)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


async def main(n: int, photo_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = tomllib.loads((REPO_ROOT / "config.example.toml").read_text(encoding="utf-8"))
        raw["storage"] = {"database_url": f"sqlite+aiosqlite:///{tmp}/b.db", "photo_dir": "p"}
        raw["limits"] = {"reports_per_hour": 100_000}
        config = parse_config(raw, base_dir=pathlib.Path(tmp))
        services = Services.create(config, {WEB: WebCourier()}, members=NoMembers())
        await services.start()
        app, _ = web.build(services, telegram_on=False, secret=b"b" * 40)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as phone:
            page = await phone.get("/")
            csrf = re.search(r'"csrf": "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            weights = {"HTML": page.content}
            for name in ("rider.css", "rider.js"):
                weights[name] = (await phone.get(f"/static/{name}")).content
            total = sum(len(b) for b in weights.values())
            total_gz = sum(len(gzip.compress(b)) for b in weights.values())
            leaflet = sum(
                len(p.read_bytes()) for p in (STATIC / "leaflet").rglob("*") if p.is_file()
            )
            leaflet_js = (STATIC / "leaflet" / "leaflet.js").read_bytes()
            print("page weight (what a phone downloads for the page, map tiles excluded):")
            for name, body in weights.items():
                print(f"  {name:10} {kb(len(body)):>9}  ({kb(len(gzip.compress(body)))} gzipped)")
            print(f"  {'total':10} {kb(total):>9}  ({kb(total_gz)} gzipped)  target < 100 KB")
            print(
                f"  Leaflet (excluded): {kb(leaflet)} on disk, leaflet.js "
                f"{kb(len(leaflet_js))} ({kb(len(gzip.compress(leaflet_js)))} gzipped)"
            )

            served = []
            for _ in range(n):
                start = time.perf_counter()
                assert (await phone.get("/")).status_code == 200
                served.append((time.perf_counter() - start) * 1000)
            print(
                f"rider page served: median {statistics.median(served):.1f} ms, "
                f"p95 {percentile(served, 0.95):.1f} ms over {n}  target < 20 ms"
            )

            photo = photo_of_about(photo_bytes)
            took = []
            for i in range(n):
                data = {
                    "csrf": csrf,
                    "key": f"bench-key-{i:06d}-0000000000",
                    "category": "order",
                    "lat": str(POINT.lat),
                    "lon": str(POINT.lon),
                    "separate": "1",  # one spot again and again: each a different problem
                }
                files = [("photo", ("p.jpg", photo, "image/jpeg"))]
                start = time.perf_counter()
                answer = await phone.post("/reports", data=data, files=files)
                took.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 201, answer.text
            print(
                f"submit with a {kb(len(photo))} photo: median {statistics.median(took):.0f} ms, "
                f"p95 {percentile(took, 0.95):.0f} ms over {n}  target p95 < 150 ms"
            )
        await services.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        asyncio.run(main(3, 64 * 1024))
    else:
        asyncio.run(main(args.n, 1024 * 1024))
