"""Fixtures for the course tests: the scenario tests' library fixtures, shared."""

from __future__ import annotations

from tests.scenarios.conftest import library, minimal_text

__all__ = ["library", "minimal_text"]
