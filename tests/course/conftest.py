"""Fixtures for the course tests."""

from __future__ import annotations

import pytest

from scenarios.library import Library, load_library


@pytest.fixture(scope="session")
def library() -> Library:
    """The built-in scenario library."""
    return load_library()
