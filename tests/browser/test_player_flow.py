"""The learner's player in headless Chromium, inside the demo LMS's cross-origin iframe.

Launch, answer with autosave, reload mid-way and resume, relaunch and resume, submit, read the
feedback, see the grade in the LMS gradebook, relaunch and see the history; a keyboard-only run;
axe-core on every page of the flow, at desktop width and at 360 px. Screenshots of every page
go to test-artifacts/.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scenarios.model import Scenario
from tests.browser.conftest import (
    ARTIFACTS,
    AXE,
    SKIP_WITHOUT_CHROMIUM,
    LiveServer,
    assert_csp_enforced,
    inject_axe,
    watch_csp,
)
from tests.lti_tool.flows import SCENARIO, attempt_scenario, correct_answers

pytestmark = [pytest.mark.browser, SKIP_WITHOUT_CHROMIUM]

LEARNER = "demo-learner-ada"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _launch_url(server: LiveServer, person: str = LEARNER) -> str:
    return f"{server.lms_origin}/demo/launch?person={person}&scenario={SCENARIO}"


def _tool_frame(page: Any, server: LiveServer) -> Any:
    """The iframe's frame once it shows a tool page (after the OIDC login and launch)."""
    for _ in range(200):
        frame = next((f for f in page.frames if f.url.startswith(server.tool_origin)
                      and "/play" in f.url), None)
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no tool page in the iframe: {[f.url for f in page.frames]}")


def _shoot(page: Any, frame: Any, name: str) -> None:
    """A screenshot of the LMS page with the iframe grown to show the whole tool page."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = frame.evaluate("document.documentElement.scrollHeight")
    top = page.evaluate("document.getElementById('tool-frame').getBoundingClientRect().top"
                        " + window.scrollY")
    # A viewport as tall as the page: Chromium paints a tall cross-origin iframe only on screen.
    page.set_viewport_size({"width": size["width"], "height": int(top + height + 40)})
    page.evaluate("h => { document.getElementById('tool-frame').style.height = (h + 20) + 'px'; }",
                  height)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"player-{name}.png"))
    page.evaluate("() => { document.getElementById('tool-frame').style.height = ''; }")
    page.set_viewport_size(size)


def _step_fields(scenario: Scenario, number: int) -> dict[str, Any]:
    step = scenario.steps[number - 1]
    return {k: v for k, v in correct_answers(scenario).items()
            if k == step.id or k.startswith(step.id + ".")}


def _answer(frame: Any, fields: dict[str, Any]) -> None:
    """Fill one step's answer through its controls (clicks and typing, as a learner does)."""
    for name, value in fields.items():
        if isinstance(value, list):
            for item in value:
                frame.locator(f'input[name="{name}"][value="{item}"]').check()
        elif ".rank." in name:
            frame.locator(f'select[name="{name}"]').select_option(value)
        elif frame.locator(f'textarea[name="{name}"]').count():
            frame.locator(f'textarea[name="{name}"]').fill(value)
        else:
            frame.locator(f'input[name="{name}"][value="{value}"]').check()


def _saved(frame: Any) -> None:
    from playwright.sync_api import expect

    expect(frame.locator("#autosave-status")).to_have_text("Draft saved.", timeout=10000)


def test_learner_plays_resumes_submits_reads_feedback_and_sees_history(
    live_server: LiveServer, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    refused = watch_csp(page)
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(_launch_url(live_server))
    frame = _tool_frame(page, live_server)
    expect(frame.locator("#start-scenario")).to_be_visible()
    assert page.url.startswith(live_server.lms_origin)  # the LMS page frames the tool

    # The first page: the tool's document and everything it loaded, as transferred.
    opened = next(i for i, r in enumerate(responses)
                  if r.url == f"{live_server.tool_origin}/lti/launch")
    first = [responses[opened]] + [r for r in responses[opened + 1:]
                                   if r.url.startswith(f"{live_server.tool_origin}/static/")]
    transferred = sum(r.request.sizes()["responseBodySize"]
                      + r.request.sizes()["responseHeadersSize"] for r in first)
    print(f"\nfirst page transferred: {transferred} bytes ({transferred / 1024:.1f} KB) "
          f"in {len(first)} responses: {[r.url.split('?')[0] for r in first]}")
    assert transferred < 200 * 1024
    _shoot(page, frame, "1-lesson")

    # The launch answers with the first page itself (no redirect), and player.js puts the
    # page's own address in the frame's history: a reload asks for /play, not a second post
    # of the spent id_token (which would be refused as a replay).
    assert frame.url.startswith(f"{live_server.tool_origin}/play?launch="), frame.url
    frame.evaluate("() => location.reload()")
    frame.wait_for_load_state()
    frame = _tool_frame(page, live_server)
    expect(frame.locator("#start-scenario")).to_be_visible()

    frame.locator("#start-scenario").click()
    expect(frame.locator(".metrics-table tr.gap").first).to_contain_text("Gap")
    # One table of numbers against the benchmark: the author's body does not repeat it.
    expect(frame.get_by_role("columnheader", name="Benchmark", exact=True)).to_have_count(1)
    _shoot(page, frame, "2-seller")
    frame.locator("#start-steps").click()

    scenario = attempt_scenario(live_server.app)
    expect(frame.locator("legend").first).to_contain_text("Step 1 of 4")
    _answer(frame, _step_fields(scenario, 1))
    _saved(frame)  # autosaved, no button pressed
    _shoot(page, frame, "3-step-1")
    frame.locator("#next").click()

    expect(frame.locator("legend").first).to_contain_text("Step 2 of 4")
    ranks = _step_fields(scenario, 2)
    _answer(frame, ranks)
    _saved(frame)
    # Reload mid-way: the iframe comes back on step 2 with the autosaved ranks.
    frame.goto(frame.url)
    frame = _tool_frame(page, live_server)
    for name, rank in ranks.items():
        expect(frame.locator(f'select[name="{name}"]')).to_have_value(rank)
    # Relaunch from the LMS (a new launch, as from another device): resumes on step 2.
    page.goto(_launch_url(live_server))
    frame = _tool_frame(page, live_server)
    expect(frame.locator("legend").first).to_contain_text("Step 2 of 4")
    for name, rank in ranks.items():
        expect(frame.locator(f'select[name="{name}"]')).to_have_value(rank)
    _shoot(page, frame, "4-step-2-resumed")
    frame.locator("#next").click()

    expect(frame.locator("legend").first).to_contain_text("Step 3 of 4")
    _answer(frame, _step_fields(scenario, 3))
    _shoot(page, frame, "5-step-3")
    frame.locator("#next").click()
    expect(frame.locator("legend").first).to_contain_text("Step 4 of 4")
    _answer(frame, _step_fields(scenario, 4))
    _saved(frame)
    _shoot(page, frame, "6-step-4")
    frame.locator("#next").click()

    expect(frame.locator("h1")).to_have_text("Review your answers")
    _shoot(page, frame, "7-review")
    frame.locator("#to-confirm").click()
    expect(frame.locator("#attempts-left-confirm")).to_be_visible()
    _shoot(page, frame, "8-confirm")
    frame.locator("#submit-attempt").click()

    score = frame.locator("#total-score")
    expect(score).to_be_visible(timeout=20000)
    shown = score.inner_text()
    assert shown.endswith("%") and int(shown[:-1]) >= 70
    expect(frame.locator(".learner-answer mark").first).to_be_visible()
    expect(frame.locator(".explanation").first).to_contain_text("The right reading")
    expect(frame.locator("#grade-delivery")).to_contain_text("gradebook")
    _shoot(page, frame, "9-feedback")

    page.goto(f"{live_server.lms_origin}/demo/gradebook")
    # The server's in-process outbox worker sends the score moments after the submit.
    for _ in range(100):
        if page.locator("#gradebook tbody tr").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    row = page.locator("#gradebook tbody tr").first
    expect(row).to_contain_text("Ada Learner")
    given = float(row.locator("td.score").inner_text().split("/")[0])
    assert round(given) == int(shown[:-1])
    page.screenshot(path=str(ARTIFACTS / "player-10-gradebook.png"), full_page=True)

    page.goto(_launch_url(live_server))
    frame = _tool_frame(page, live_server)
    expect(frame.locator(".history-table")).to_contain_text("Attempt 1")
    expect(frame.locator(".history-table")).to_contain_text(shown)
    expect(frame.locator("#grade-delivery")).to_contain_text("was sent to your course's gradebook")
    _shoot(page, frame, "11-relaunch-history")
    # No page of the flow, nor the LMS around it, broke the tool's Content-Security-Policy.
    assert refused == [], refused
    assert_csp_enforced(page, frame, refused)


def _tab_to(page: Any, frame: Any, selector: str, presses: int = 200) -> None:
    """Press Tab until the element matching `selector` in the tool has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if frame.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                          selector):
            # The focus is visible: keyboard focus draws an outline.
            style = frame.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                                   " return [s.outlineStyle, s.outlineWidth]; }")
            assert style[0] != "none" and style[1] != "0px", (selector, style)
            return
    raise AssertionError(f"Tab never reached {selector}")


def _press_on(page: Any, frame: Any, selector: str, key: str = "Enter") -> Any:
    _tab_to(page, frame, selector)
    page.keyboard.press(key)


def _choose_radio(page: Any, frame: Any, name: str, value: str) -> None:
    _tab_to(page, frame, f'input[name="{name}"]')
    for _ in range(12):
        if frame.evaluate("n => (document.querySelector(`input[name=\"${n}\"]:checked`) || {})"
                          ".value", name) == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"arrow keys never selected {name}={value}")


def test_the_whole_flow_works_with_the_keyboard_alone(
    live_server: LiveServer, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    refused = watch_csp(page)
    page.goto(_launch_url(live_server))
    frame = _tool_frame(page, live_server)
    _press_on(page, frame, "#start-scenario")
    frame = _tool_frame(page, live_server)
    expect(frame.locator("#start-steps")).to_be_visible()
    _press_on(page, frame, "#start-steps")
    scenario = attempt_scenario(live_server.app)
    for number, step in enumerate(scenario.steps, start=1):
        frame = _tool_frame(page, live_server)
        expect(frame.locator("legend").first).to_contain_text(f"Step {number} of 4")
        for name, value in _step_fields(scenario, number).items():
            if isinstance(value, list):
                for item in value:
                    _press_on(page, frame, f'input[name="{name}"][value="{item}"]', "Space")
            elif ".rank." in name:
                _press_on(page, frame, f'select[name="{name}"]', value)
            elif step.grader == "coaching_plan":
                _tab_to(page, frame, f'textarea[name="{name}"]')
                page.keyboard.type(value)
            else:
                _choose_radio(page, frame, name, value)
        _press_on(page, frame, "#next")
    frame = _tool_frame(page, live_server)
    expect(frame.locator("h1")).to_have_text("Review your answers")
    _press_on(page, frame, "#to-confirm")
    frame = _tool_frame(page, live_server)
    expect(frame.locator("#submit-attempt")).to_be_visible()
    _press_on(page, frame, "#submit-attempt")
    frame = _tool_frame(page, live_server)
    expect(frame.locator("#total-score")).to_be_visible(timeout=20000)
    assert int(frame.locator("#total-score").inner_text()[:-1]) >= 70
    _shoot(page, frame, "keyboard-feedback")
    assert refused == [], refused


def _axe(frame: Any) -> list[dict[str, Any]]:
    inject_axe(frame)
    violations: list[dict[str, Any]] = frame.evaluate(
        """async tags => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
        }""", AXE_TAGS)
    return violations


@pytest.mark.parametrize("width", [1200, 360])
def test_axe_finds_no_serious_violation_on_any_page_and_360px_does_not_scroll_sideways(
    live_server: LiveServer, browser: Any, width: int
) -> None:
    from playwright.sync_api import expect

    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe` (part of `make test`), which "
                    "installs the pinned axe-core from npm. The accessibility check must run.")
    from lti_tool.learner import FREE_TEXT_LIMIT

    # The real CSP is in force: axe goes in through the DevTools protocol (inject_axe).
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    refused = watch_csp(page)
    page.goto(_launch_url(live_server))
    report: dict[str, list[dict[str, Any]]] = {}

    def check(name: str, ready: str) -> Any:
        frame = _tool_frame(page, live_server)
        expect(frame.locator(ready).first).to_be_visible(timeout=20000)
        frame.wait_for_load_state()
        report[name] = _axe(frame)
        overflow = frame.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (name, width, overflow)  # no sideways scrolling at any width
        _shoot(page, frame, f"{width}px-{name}")
        return frame

    frame = check("lesson", "#start-scenario")
    frame.locator("#start-scenario").click()
    frame = check("seller", "#start-steps")
    frame.locator("#start-steps").click()
    scenario = attempt_scenario(live_server.app)
    for number in range(1, len(scenario.steps) + 1):
        frame = _tool_frame(page, live_server)
        expect(frame.locator("legend").first).to_contain_text(f"Step {number} of")
        fields = _step_fields(scenario, number)
        if "plan" in fields:
            # The refusal of an over-long answer is a page of the flow too.
            _answer(frame, {"plan": "x" * (FREE_TEXT_LIMIT + 1)})
            frame.locator("#next").click()
            frame = _tool_frame(page, live_server)
            expect(frame.locator("#step-problem")).to_contain_text(f"at most {FREE_TEXT_LIMIT}")
            frame = check("step-too-long", "#step-problem")
        _answer(frame, fields)
        frame = check(f"step-{number}", "#next")
        frame.locator("#next").click()
    frame = check("review", "#to-confirm")
    frame.locator("#to-confirm").click()
    frame = check("confirm", "#submit-attempt")
    frame.locator("#submit-attempt").click()
    frame = check("feedback", "#total-score")
    # Neither the pages nor axe's injection broke the CSP, and the CSP was really in force.
    assert refused == [], refused
    assert_csp_enforced(page, frame, refused)
    context.close()

    version = json.loads((AXE.parent / "package.json").read_text())["version"]
    print(f"\naxe-core {version} at {width}px, tags {AXE_TAGS}:")
    for name, violations in report.items():
        listed = ", ".join(f"{v['id']}({v['impact']})" for v in violations) or "none"
        print(f"  {name}: {listed}")
    serious = {name: [v for v in violations if v["impact"] in ("serious", "critical")]
               for name, violations in report.items()}
    assert not any(serious.values()), serious
    # lesson, seller, the refused over-long answer, every step, review, confirm, feedback
    assert len(report) == 6 + len(scenario.steps)
