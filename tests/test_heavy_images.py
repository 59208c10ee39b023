"""A small file that decodes huge is refused at once, with an answer the rider understands."""

from __future__ import annotations

import io
import subprocess
import sys

from PIL import Image

from tests.conftest import ROOT, Stage
from tests.images import flat_png, jpeg


async def test_a_190_kb_7000_square_png_is_refused_plainly_and_quickly(stage: Stage) -> None:
    rider = stage.person()
    bomb = flat_png(7000, 7000)  # ~200 KB, 49 megapixels with alpha: 196 MB decoded
    await stage.send(rider.document(bomb, file_name="scan.png", mime_type="image/png"))
    answer = rider.last_bot_message()["text"]
    assert "尺寸过大" in answer and "没有保存" in answer and "用相机拍照" in answer
    assert not list(stage.config.photo_dir.rglob("*.jpg"))
    # The rider carries on with a normal photo.
    await stage.send(rider.photo(jpeg(seed=2)))
    assert "发送位置" in rider.last_bot_message()["text"]
    assert len(list(stage.config.photo_dir.rglob("*.jpg"))) == 1


async def test_a_small_progressive_7000_square_jpeg_is_refused_too(stage: Stage) -> None:
    """Decoding it at 1/8 scale still makes libjpeg hold 294 MB of full-size coefficients."""
    buffer = io.BytesIO()
    flat = Image.new("RGB", (7000, 7000), (120, 130, 140))
    flat.save(buffer, "JPEG", quality=95, subsampling=0, progressive=True)
    assert len(buffer.getvalue()) < 1_000_000
    rider = stage.person()
    await stage.send(rider.document(buffer.getvalue(), file_name="p.jpg", mime_type="image/jpeg"))
    answer = rider.last_bot_message()["text"]
    assert "尺寸过大" in answer and "没有保存" in answer
    assert not list(stage.config.photo_dir.rglob("*.jpg"))


def test_the_heavy_images_bench_runs_and_reports() -> None:
    done = subprocess.run(
        [sys.executable, "bench/bench_heavy_images.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "/help sent while the uploads are processed" in out and "/help queued right behind" in out
    )
    assert "peak RSS" in out
    refused = [line for line in out.splitlines() if "bomb.png" in line]
    assert len(refused) == 2 and all("尺寸过大" in line for line in refused)
    assert sum("heaviest.png" in line and "已收到" in line for line in out.splitlines()) == 2
