"""Which scenario a placement shows, loaded from the scenario library (read once per app)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from lti_tool.errors import NotFound

if TYPE_CHECKING:
    from course.catalogue import Catalogue
    from course.model import Module
    from lti_tool.models import ResourceLink
    from scenarios.library import Library
    from scenarios.model import Scenario

DEFAULT_SCENARIO = "territory-rep-300-accounts"
"""What a placement without a `scenario` or `module` custom parameter shows."""


def _content_dir() -> Path | None:
    value = current_app.config["CONTENT_DIR"]
    return Path(value) if value else None


def content_dir() -> Path | None:
    """The external content directory (COACHLAB_CONTENT_DIR), if one is configured."""
    return _content_dir()


def library() -> Library:
    """The scenario library (built-in plus COACHLAB_CONTENT_DIR), loaded on first use."""
    lib: Library | None = current_app.extensions.get("coachlab_library")
    if lib is None:
        from scenarios.library import load_library

        lib = load_library(_content_dir())
        for problem in lib.problems:
            current_app.logger.warning("content problem: %s", problem)
        current_app.extensions["coachlab_library"] = lib
    return lib


def catalogue() -> Catalogue:
    """The course catalogue (built-in lessons plus COACHLAB_CONTENT_DIR), loaded on first use."""
    found: Catalogue | None = current_app.extensions.get("coachlab_catalogue")
    if found is None:
        from course.catalogue import load_catalogue

        found = load_catalogue(_content_dir(), library())
        current_app.extensions["coachlab_catalogue"] = found
    return found


def lesson_of(link: ResourceLink, scenario_id: str) -> Module | None:
    """The lesson shown before the scenario: the link's module, else the first that lists it."""
    modules = catalogue().modules
    if link.module_id:
        for module in modules:
            if module.id == link.module_id:
                return module
    return next((m for m in modules if scenario_id in m.scenarios), None)


def module_first_scenario(module_id: str) -> str:
    """The first scenario of a course module (custom parameter `module`)."""
    catalogue_ = catalogue()
    try:
        module = catalogue_.module(module_id)
    except KeyError as error:
        raise NotFound(
            f"This placement names module {module_id!r}, which the course catalogue does not "
            f"have ({error}). Fix the link's custom parameter `module`."
        ) from None
    if not module.scenarios:
        raise NotFound(f"Module {module_id!r} has no scenario to practise yet.")
    return module.scenarios[0]


def placement_scenario_id(link: ResourceLink) -> str:
    """The scenario id the link shows: custom `scenario`, else its module's first, else default."""
    if link.scenario_id:
        return link.scenario_id
    if link.module_id:
        return module_first_scenario(link.module_id)
    return DEFAULT_SCENARIO


def variant_seed(scenario_id: str, learner_key: str) -> int | None:
    """A stable seed per learner and scenario when the scenario has variants, else None."""
    require_scenario(scenario_id)
    if not library().has_variants(scenario_id):
        return None
    digest = hashlib.sha256(f"{scenario_id}\0{learner_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 1_000_000


def require_scenario(scenario_id: str) -> None:
    """NotFound, naming the known ids, when the library has no such scenario."""
    lib = library()
    if scenario_id not in lib.scenario_ids():
        known = ", ".join(lib.scenario_ids()) or "none"
        raise NotFound(
            f"This placement names scenario {scenario_id!r}, which the library does not have. "
            f"Known scenarios: {known}. Fix the link's custom parameter `scenario`."
        )


VARIANT_CACHE_SIZE = 512
"""Scenario variants kept built per process: a learner's every page and submission needs
theirs, and building one (substitution + validation) costs about a millisecond."""


def load_scenario(scenario_id: str, seed: int | None) -> Scenario:
    """The playable scenario; NotFound names the known ids when the placement's id is wrong."""
    require_scenario(scenario_id)
    lib = library()
    cache: tuple[threading.Lock, OrderedDict[tuple[str, int | None], Scenario]]
    cache = current_app.extensions.setdefault(
        "coachlab_variants", (threading.Lock(), OrderedDict()))
    lock, built = cache
    key = (scenario_id, seed)
    with lock:
        found = built.get(key)
        if found is not None:
            built.move_to_end(key)
            return found
    scenario = lib.scenario(scenario_id, seed)  # frozen values: safe to share
    with lock:
        built[key] = scenario
        while len(built) > VARIANT_CACHE_SIZE:
            built.popitem(last=False)
    return scenario
