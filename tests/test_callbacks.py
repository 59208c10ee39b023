"""Button payloads survive for days: they must round-trip, fit, and reject anything else."""

from __future__ import annotations

import pytest

from bot import callbacks


def test_round_trip_and_size() -> None:
    data = callbacks.encode("d", 123456789, "cat", "sanitation")
    assert data == "v1:d:123456789:cat:sanitation"
    assert callbacks.decode(data) == callbacks.Callback("d", 123456789, "cat", "sanitation")
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "v0:d:1:submit",
        "v1:x:1:submit",
        "v1:d:abc:submit",
        "v1:d:1:",
        "v1:d",
        "v1:d:1:cat:a:b",
        "y",
        "v1:d:1:" + "x" * 80,
        "v1:r:²:acc",
        "v1:r:١:acc",
        "v1:r:99999999999999999999:acc",
        "v1:r:0:acc",
        "v1:r:-1:acc",
        "v1:r:+1:acc",
    ],
)
def test_foreign_or_old_payloads_are_rejected(data: str | None) -> None:
    assert callbacks.decode(data) is None


def test_encoding_refuses_what_would_not_fit() -> None:
    with pytest.raises(ValueError, match="too long"):
        callbacks.encode("d", 1, "cat", "x" * 60)
