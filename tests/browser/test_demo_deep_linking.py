"""Deep Linking from the demo LMS in headless Chromium: the picker runs in the cross-origin
iframe, its signed answer is form-posted back to the LMS under the tool's CSP, and the new link
appears in the course."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    SKIP_WITHOUT_CHROMIUM,
    LiveServer,
    watch_csp,
)

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]


def test_instructor_adds_a_scenario_through_the_picker(live_server: LiveServer,
                                                      browser: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    refused = watch_csp(page)
    page.goto(f"{live_server.lms_origin}/demo/")
    page.click("#deep-link")

    frame = page.frame_locator("#tool-frame")
    expect(frame.locator("#add-content")).to_be_visible(timeout=20000)
    frame.locator("#item-scenario-inside-sales-smb-ramp").check()
    frame.locator("input[name=attempts_allowed]").fill("3")
    frame.locator("input[name=points]").fill("40")
    page.screenshot(path=str(ARTIFACTS / "demo-deep-linking-picker.png"), full_page=True)
    frame.locator("#add-content").click()

    expect(frame.get_by_role("heading", name="Added to the course")).to_be_visible(
        timeout=20000)
    assert refused == [], refused
    page.goto(f"{live_server.lms_origin}/demo/")
    added = page.locator("h2:has-text('Activities added by Deep Linking') + ul li")
    expect(added).to_have_count(1)
    href = added.locator("a").first.get_attribute("href") or ""
    assert re.search(r"activity=dl-\w+", href), href
    page.screenshot(path=str(ARTIFACTS / "demo-deep-linking-added.png"), full_page=True)
