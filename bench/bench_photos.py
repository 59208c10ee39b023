"""Benchmark photo intake: how long process_image takes and how much memory it needs.

Run from the repository root: ``python bench/bench_photos.py [-n 20]``. It processes the real
phone photos from the shared test data (if present) and a synthetic 4000x3000 JPEG, the size of
a typical 12-megapixel phone photo sent as a file. ``--quick`` (what tests/test_benchmarks.py
runs) processes one small synthetic 1200x900 JPEG once.

Each image is measured in its own child process. Two memory figures are printed because they
measure different things: tracemalloc sees only Python-level allocations (the input/output
``bytes`` objects), while Pillow's pixel buffers are allocated in C and show up only in the
growth of the process's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402

from storage.photo_process import process_image  # noqa: E402

REAL_PHOTOS = (
    "DSCN0010.jpg",
    "DSCN0042.jpg",
    "landscape_3.jpg",
    "landscape_6.jpg",
    "portrait_5.jpg",
    "empty_gps_ifd.jpg",
    "hopper.jpg",
)


def _shared_dir() -> pathlib.Path:
    """Same lookup as tests/shared_data.py: env override, then the sibling checkout."""
    env = os.environ.get("SUISHOU_SHARED_DIR")
    if env:
        return pathlib.Path(env) / "testdata" / "real"
    return REPO_ROOT.parent / "shared" / "testdata" / "real"


def _synthetic_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A detailed (noise + gradients) phone-sized JPEG; flat images would flatter the decoder."""
    noise = Image.effect_noise((width, height), 64)
    grad = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    im = Image.merge("RGB", (noise, grad, radial))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _peak_rss_mib() -> float:
    """Peak resident set size in MiB: VmHWM on Linux, else ru_maxrss."""
    status = pathlib.Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _reset_peak_rss() -> None:
    """Linux keeps the parent's high-water mark across fork/exec; reset it where possible."""
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/clear_refs").write_text("5")


def _bench_child(path: pathlib.Path, label: str, repeat: int) -> None:
    """Runs in a fresh interpreter so peak RSS belongs to this image alone."""
    data = path.read_bytes()
    _reset_peak_rss()
    rss_before = _peak_rss_mib()  # interpreter + Pillow + the input bytes
    process_image(data)  # warm-up: plugin imports, first-call allocations
    timings: list[float] = []
    gc.collect()
    tracemalloc.start()
    for _ in range(repeat):
        started = time.perf_counter()
        result = process_image(data)
        timings.append((time.perf_counter() - started) * 1000)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label:<20} {len(data) / 1024:>6.0f} KiB -> {result.width}x{result.height} "
        f"{len(result.data) / 1024:>5.0f} KiB | "
        f"median {statistics.median(timings):>6.1f} ms, min {min(timings):>6.1f} ms | "
        f"tracemalloc peak {traced_peak / (1024 * 1024):>4.1f} MiB | "
        f"peak RSS +{_peak_rss_mib() - rss_before:>4.0f} MiB over {rss_before:.0f} MiB baseline",
        flush=True,
    )


def main() -> None:
    """Orchestrate one child process per sample image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeat", type=int, default=20, help="runs per image")
    parser.add_argument("--quick", action="store_true", help="one small synthetic photo, once")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _bench_child(pathlib.Path(args.child[0]), args.child[1], args.repeat)
        return
    if args.quick:
        args.repeat = 1
    size = (1200, 900) if args.quick else (4000, 3000)

    print(f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, {args.repeat} runs each")
    samples: list[tuple[pathlib.Path, str]] = []
    shared = _shared_dir()
    for name in () if args.quick else REAL_PHOTOS:
        path = shared / name
        if path.is_file():
            samples.append((path, name))
        else:
            print(f"{name:<20} skipped (not found in {shared})")
    with tempfile.TemporaryDirectory() as tmp:
        label = f"synthetic {size[0]}x{size[1]}"
        synthetic = pathlib.Path(tmp) / f"synthetic_{size[0]}x{size[1]}.jpg"
        synthetic.write_bytes(_synthetic_jpeg(*size))
        samples.append((synthetic, label))
        for path, label in samples:
            cmd = [sys.executable, __file__, "-n", str(args.repeat), "--child", str(path), label]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
