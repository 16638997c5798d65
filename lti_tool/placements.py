"""Placement settings: how many attempts a link allows, which attempt counts, its points.

They arrive as custom parameters of the link (a deep-linking response puts them there, an admin
can type them by hand), are checked here and stored on ResourceLink.settings at each launch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lti_tool.errors import LtiToolError

if TYPE_CHECKING:
    from lti_tool.models import ResourceLink

ATTEMPT_POLICIES = ("best", "last", "mean")
"""Which attempt's score the gradebook gets: the best, the latest, or the mean of all."""
DEFAULT_POINTS = 100.0
MAX_ATTEMPTS = 100
MAX_POINTS = 10_000.0


class PlacementSettingsError(LtiToolError):
    """A link's custom parameters hold an unusable placement setting."""

    status = 400
    title = "This activity's settings are not valid"


@dataclass(frozen=True)
class PlacementSettings:
    """The settings of one placement (resource link)."""

    attempts_allowed: int | None = None
    """None means unlimited."""
    attempt_policy: str = "best"
    points: float = DEFAULT_POINTS

    def as_json(self) -> dict[str, Any]:
        """The shape stored on ResourceLink.settings."""
        return {"attempts_allowed": self.attempts_allowed, "attempt_policy": self.attempt_policy,
                "points": self.points}

    def as_custom(self) -> dict[str, str]:
        """The custom parameters that carry these settings in a content item."""
        return {
            "attempts_allowed": "" if self.attempts_allowed is None
            else str(self.attempts_allowed),
            "attempt_policy": self.attempt_policy,
            "points": f"{self.points:g}",
        }


def parse_attempts_allowed(
    raw: str, where: str = "custom parameter attempts_allowed"
) -> int | None:
    """'' / 'unlimited' / '0' -> None; a whole number 1..100 -> itself."""
    text = raw.strip().lower()
    if text in ("", "unlimited", "0"):
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ATTEMPTS:
        raise PlacementSettingsError(
            f"{where} is {raw!r}; use a whole number from 1 to {MAX_ATTEMPTS}, or leave it empty "
            "for unlimited attempts."
        )
    return int(text)


def parse_attempt_policy(raw: str, where: str = "custom parameter attempt_policy") -> str:
    """One of best, last, mean ('' means best)."""
    text = raw.strip().lower() or "best"
    if text not in ATTEMPT_POLICIES:
        raise PlacementSettingsError(
            f"{where} is {raw!r}; use one of {', '.join(ATTEMPT_POLICIES)}."
        )
    return text


def parse_points(raw: str, default: float, where: str = "custom parameter points") -> float:
    """A positive number up to 10000 ('' means the default)."""
    text = raw.strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= MAX_POINTS:
        raise PlacementSettingsError(
            f"{where} is {raw!r}; use a number greater than 0 and at most {MAX_POINTS:g}."
        )
    return value


def settings_from_custom(custom: Mapping[str, str],
                         default_points: float = DEFAULT_POINTS) -> PlacementSettings:
    """Read the settings out of a launch's custom parameters (absent ones take defaults)."""
    return PlacementSettings(
        attempts_allowed=parse_attempts_allowed(custom.get("attempts_allowed", "")),
        attempt_policy=parse_attempt_policy(custom.get("attempt_policy", "")),
        points=parse_points(custom.get("points", ""), default_points),
    )


def placement_settings(
    link: ResourceLink, default_points: float = DEFAULT_POINTS
) -> PlacementSettings:
    """The link's stored settings, with defaults for what it does not say."""
    stored: Mapping[str, Any] = link.settings or {}
    allowed = stored.get("attempts_allowed")
    policy = stored.get("attempt_policy")
    points = stored.get("points")
    return PlacementSettings(
        attempts_allowed=int(allowed) if isinstance(allowed, int) and allowed > 0 else None,
        attempt_policy=policy if policy in ATTEMPT_POLICIES else "best",
        points=float(points) if isinstance(points, int | float) and points > 0
        else default_points,
    )
