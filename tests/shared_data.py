"""Locate real third-party test material that licences keep out of the repository.

The files live next to the checkout (``../shared/testdata/real``) or under
``$SUISHOU_SHARED_DIR/testdata/real``; tests that need them skip instead of failing when absent.
"""

from __future__ import annotations

import os
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _candidates(name: str) -> list[pathlib.Path]:
    """Search order: explicit environment override first, then the sibling checkout layout."""
    found: list[pathlib.Path] = []
    env = os.environ.get("SUISHOU_SHARED_DIR")
    if env:
        found.append(pathlib.Path(env) / "testdata" / "real" / name)
    found.append(REPO_ROOT.parent / "shared" / "testdata" / "real" / name)
    return found


def shared_real(name: str) -> pathlib.Path:
    """Path of a real test file, or skip the calling test if it is not available here."""
    for path in _candidates(name):
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in _candidates(name))
    pytest.skip(f"shared test data {name!r} not found (tried {tried}); set SUISHOU_SHARED_DIR")
