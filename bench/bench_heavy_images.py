"""Benchmark heavy image uploads: what they cost, and what another user waits meanwhile.

Run from the repository root: ``python bench/bench_heavy_images.py [--quick] [--uploads N]``.
It builds the same stage as the tests (tests/conftest.py): the fake Telegram, the example
county, an SQLite database in a temporary directory and the real ``telegram.ext.Application``.
Updates go through the Application's own update queue, as polling delivers them, so the
Application's concurrency settings apply exactly as in production.

One rider sends, as files and in quick succession:

- N "bombs": flat 7000×7000 RGBA PNGs, about 200 KB each, 196 MB once decoded (refused);
- N large phone JPEGs (6000×4500, detailed), decoded at a reduced scale;
- 2 flat 4000×4000 RGBA PNGs, the heaviest pictures still accepted (64 MB decoded).

Meanwhile another user sends /help: once through the update queue right after the uploads
(other chats' updates run side by side, so it need not wait for them), and every 100 ms
beside them (``process_update`` directly), which shows whether decoding starves the event loop.
Printed: the /help answer times, each upload's answer time and what the rider read, and the
process's peak RSS (Linux VmHWM, reset at the start where the kernel allows).

``--unbounded`` lifts the decoded-size bound and the limit on photos decoded at once, for
comparison with the old behaviour: it needs ~1 GB per bomb. ``--quick`` uses tiny pictures
(and a bound scaled down to match) so the test-suite can run it in a few seconds. Figures are
from one run on a possibly busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import pathlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application  # noqa: E402

from tests.conftest import (  # noqa: E402
    TOKEN,
    FakeClock,
    make_config,
    make_world,
    start_app,
    stop_app,
)
from tests.fake_telegram import FakeTelegram, Person  # noqa: E402
from tests.images import flat_png  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    bomb: int  # side of the flat RGBA PNG that must be refused
    jpeg: tuple[int, int]
    heaviest: int  # side of the flat RGBA PNG just under the bound
    bound: int | None  # decoded-size bound to configure (None: the bot's own)


FULL = Sizes(bomb=7000, jpeg=(6000, 4500), heaviest=4000, bound=None)
QUICK = Sizes(bomb=1400, jpeg=(1100, 800), heaviest=1000, bound=4 * 1024 * 1024)


def detailed_jpeg(width: int, height: int) -> bytes:
    """Noise and gradients, as a phone photo: flat pictures would flatter the decoder."""
    noise = Image.effect_noise((width, height), 64)
    grad = Image.linear_gradient("L").resize((width, height))
    im = Image.merge("RGB", (noise, grad, noise.transpose(Image.Transpose.ROTATE_180)))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def peak_rss_mib() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mib() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/clear_refs").write_text("5")


async def answered(tg: FakeTelegram, person: Person, count: int, timeout: float = 120) -> float:
    """Wait until the person has `count` answers from the bot; the moment it happened."""
    deadline = time.perf_counter() + timeout
    while len(tg.bot_messages(person.id)) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{person} got no answer")
        await asyncio.sleep(0.002)
    return time.perf_counter()


async def run(sizes: Sizes, uploads: int, unbounded: bool) -> None:
    tg = FakeTelegram(token=TOKEN)
    chats, topics = make_world(tg)
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(pathlib.Path(tmp), chats, topics)
        app = await start_app(config, tg, FakeClock())
        photos = app.bot_data["services"].photos
        if sizes.bound is not None:
            photos.max_decoded_bytes = sizes.bound
        if unbounded:
            photos.max_decoded_bytes = 10**12
            photos.workers = 1000
            photos._slots = asyncio.Semaphore(photos.workers)
        try:
            await measure(app, tg, sizes, uploads)
        finally:
            await stop_app(app)


async def measure(app: Application, tg: FakeTelegram, sizes: Sizes, uploads: int) -> None:
    photos = app.bot_data["services"].photos
    print(
        f"bound {photos.max_decoded_bytes / 2**20:.0f} MiB decoded, {photos.workers} photo(s) "
        "at once; updates of different chats handled side by side"
    )
    files = (
        [("bomb.png", "image/png", flat_png(sizes.bomb, sizes.bomb))] * uploads
        + [("phone.jpg", "image/jpeg", detailed_jpeg(*sizes.jpeg))] * uploads
        + [("heaviest.png", "image/png", flat_png(sizes.heaviest, sizes.heaviest))] * 2
    )
    print(
        f"uploads: {uploads} × {sizes.bomb}² RGBA PNG ({len(files[0][2]) // 1024} KB), "
        f"{uploads} × {sizes.jpeg[0]}×{sizes.jpeg[1]} JPEG "
        f"({len(files[uploads][2]) // 1024} KB), 2 × {sizes.heaviest}² RGBA PNG"
    )
    rider, other = tg.person("重图骑手"), tg.person("路人")

    async def put(update: dict) -> float:
        await app.update_queue.put(Update.de_json(update, app.bot))
        return time.perf_counter()

    # Unloaded reference.
    sent = await put(other.command("/help"))
    idle_ms = (await answered(tg, other, 1) - sent) * 1000
    print(f"/help with nothing else going on: {idle_ms:.1f} ms")

    reset_peak_rss()
    base_rss = current_rss_mib()
    started = []
    for name, mime, data in files:
        started.append(await put(rider.document(data, file_name=name, mime_type=mime)))
    # Another user's /help, queued right behind the uploads as polling would deliver it.
    queued_sent = await put(other.command("/help"))
    queued_ms = (await answered(tg, other, 2) - queued_sent) * 1000
    upload_times: list[float] = []
    beside_ms: list[float] = []

    async def watch_uploads() -> None:
        for i in range(len(files)):
            upload_times.append(await answered(tg, rider, i + 1))

    watcher = asyncio.create_task(watch_uploads())
    while not watcher.done():
        # More /help while the uploads are processed (handled directly: through the queue,
        # one person's /help every 100 ms would soon meet the per-rider message limit).
        update = Update.de_json(other.command("/help"), app.bot)
        sent = time.perf_counter()
        await app.process_update(update)
        beside_ms.append((time.perf_counter() - sent) * 1000)
        await asyncio.sleep(0.1)
    await watcher
    peak = peak_rss_mib()

    print(
        f"/help sent while the uploads are processed (n={len(beside_ms)}): "
        f"median {statistics.median(beside_ms):.0f} ms, max {max(beside_ms):.0f} ms"
    )
    print(
        f"/help queued right behind the uploads (other chats run side by side): {queued_ms:.0f} ms"
    )
    print("uploads, answered after (from the first upload):")
    answers = [m["text"] for m in tg.bot_messages(rider.id)]
    for (name, _, _), done, text in zip(files, upload_times, answers, strict=True):
        print(f"  {name:13} {(done - started[0]) * 1000:7.0f} ms  {text.splitlines()[0][:40]}")
    print(f"peak RSS {peak:.0f} MiB (RSS before the uploads {base_rss:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny pictures, for the tests")
    parser.add_argument("--uploads", type=int, default=None, help="bombs and JPEGs (4)")
    parser.add_argument(
        "--unbounded", action="store_true", help="no decoded-size bound, no worker limit"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    uploads = args.uploads or (2 if args.quick else 4)
    asyncio.run(run(sizes, uploads, args.unbounded))


if __name__ == "__main__":
    main()
