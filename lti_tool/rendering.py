"""Rendered Markdown of scenarios and lessons, cached in process by content hash.

Rendering a scenario page's Markdown on every request cost about 18 ms; the content only
changes when its text does, so the HTML is kept in a small LRU keyed by the SHA-256 of the
Markdown. The one Markdown configuration stays scenarios.markdown's.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from markupsafe import Markup

CACHE_SIZE = 1024
"""Distinct Markdown texts kept rendered (a scenario has a few dozen; a lesson one)."""

TABLE_OPEN = ('<div class="table-scroll" tabindex="0" role="region" '
              'aria-label="Table (scrolls sideways on a narrow screen)">\n<table>')
"""Tables scroll inside their own box on narrow screens; focusable so the keyboard can scroll."""
TABLE_CLOSE = "</table>\n</div>"

_cache: OrderedDict[bytes, Markup] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def render_markdown(markdown: str) -> Markup:
    """Safe HTML of `markdown` (raw HTML escaped, unsafe links dropped), from the cache."""
    from scenarios.markdown import render

    key = hashlib.sha256(markdown.encode("utf-8")).digest()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return cached
    # The shared renderer escapes raw HTML, so a "<table>" here is one Markdown made.
    html = Markup(render(markdown).replace("<table>", TABLE_OPEN).replace("</table>",
                                                                            TABLE_CLOSE))
    with _lock:
        _stats["misses"] += 1
        _cache[key] = html
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return html


def cache_stats() -> dict[str, int]:
    """Hits, misses and size of the render cache (for tests and benchmarks)."""
    with _lock:
        return {**_stats, "size": len(_cache)}


def clear_cache() -> None:
    """Forget every rendered text (tests)."""
    with _lock:
        _cache.clear()
        _stats.update(hits=0, misses=0)
