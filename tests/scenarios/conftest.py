"""Fixtures shared by the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.library import Library, load_library

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def library() -> Library:
    """The built-in library (loaded once: it is immutable)."""
    return load_library()


@pytest.fixture
def minimal_text() -> str:
    """The compact valid scenario the variant and library tests start from."""
    return (DATA / "valid" / "minimal-territory.md").read_text(encoding="utf-8")
