"""How much does the player's Markdown render cache save? The Markdown of every page of one
attempt (lesson, scenario summary and sections, step prompts and explanations), rendered fresh
with scenarios.markdown against served from lti_tool.rendering's content-hash LRU, in the same
run. Prints the times and the ratio (no absolute targets: the machine is shared).

    python bench/player_render.py [--scenario territory-rep-300-accounts] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.catalogue import load_catalogue  # noqa: E402
from lti_tool.rendering import clear_cache, render_markdown  # noqa: E402
from scenarios.library import load_library  # noqa: E402
from scenarios.markdown import render  # noqa: E402


def _time(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="territory-rep-300-accounts")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    library = load_library()
    scenario = library.scenario(args.scenario, None)
    lesson = next(m for m in load_catalogue(None, library).modules
                  if scenario.id in m.scenarios)
    texts = [lesson.markdown, scenario.summary, *(s.markdown for s in scenario.sections),
             *(s.prompt for s in scenario.steps), *(s.feedback for s in scenario.steps)]
    chars = sum(len(t) for t in texts)
    clear_cache()
    fresh = _time(lambda: [render(t) for t in texts], args.repeat)
    cached = _time(lambda: [render_markdown(t) for t in texts], args.repeat)
    print(f"{len(texts)} Markdown texts, {chars} characters ({args.scenario} and its lesson)")
    print(f"fresh render : {fresh * 1000:8.3f} ms per attempt's pages")
    print(f"cached render: {cached * 1000:8.3f} ms per attempt's pages")
    print(f"ratio fresh / cached: {fresh / cached:.1f}x")


if __name__ == "__main__":
    main()
