"""The ONE Markdown configuration of coachlab, and the section/table structure of a body.

markdown-it-py with the "commonmark" preset, raw HTML off (the preset allows it by default),
GFM tables on, linkify off, and links restricted to http, https, mailto and relative URLs.
Loaders parse with it and the web app renders with it, so what an author checks with
`coachlab content check` is exactly what learners see.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from scenarios.model import Section

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
"""URL schemes a link or image may use; relative URLs (no scheme) are allowed too."""

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
# Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:"),
# so strip them before deciding what the scheme is.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")


def is_allowed_link(url: str) -> bool:
    """True for http, https, mailto and relative URLs; False for javascript:, data:, ..."""
    squashed = _IGNORED_IN_SCHEME.sub("", url).lower()
    match = _SCHEME.match(squashed)
    if match is None:
        return True
    return match.group(1) in ALLOWED_SCHEMES


class _CoachlabMarkdown(MarkdownIt):
    """markdown-it with coachlab's link policy."""

    def validateLink(self, url: str) -> bool:  # noqa: N802 - markdown-it's hook name
        """Allow only http, https, mailto and relative links."""
        return is_allowed_link(url)


def _build() -> MarkdownIt:
    md = _CoachlabMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    return md


_MD = _build()


def markdown_parser() -> MarkdownIt:
    """The shared parser (read-only use: parse or render; do not reconfigure it)."""
    return _MD


@lru_cache(maxsize=1024)
def render(markdown: str) -> str:
    """Render Markdown to safe HTML: raw HTML is escaped, unsafe links are not linked.
    Cached: the player renders the same scenario sections for every learner."""
    html: str = _MD.render(markdown)
    return html


def slugify(title: str) -> str:
    """The id of a section title: lower case words joined by hyphens ('Teaching notes')."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "section"


@dataclass(frozen=True)
class BodySection:
    """A `## ` section of a body with the 1-based line of its heading."""

    section: Section
    line: int
    first_content_line: int
    """1-based line of the first line after the heading (relative to the body)."""


@dataclass(frozen=True)
class BodyProblem:
    """A structural problem in a body, at a 1-based line relative to the body."""

    line: int
    field: str
    message: str


def split_sections(body: str) -> tuple[list[BodySection], list[BodyProblem]]:
    """Split a body into its `## ` sections (headings inside code blocks do not count)."""
    lines = _lines(body)
    tokens = _MD.parse(body)
    # (heading line, first line after the heading, title); level 0 skips quotes and lists.
    headings: list[tuple[int, int, str]] = []
    for index, token in enumerate(tokens):
        if (
            token.type == "heading_open"
            and token.tag == "h2"
            and token.level == 0
            and token.map is not None
        ):
            title = tokens[index + 1].content.strip()
            headings.append((token.map[0], token.map[1], title))
    problems: list[BodyProblem] = []
    first_heading = headings[0][0] if headings else len(lines)
    for number, text in enumerate(lines[:first_heading], start=1):
        if text.strip():
            problems.append(
                BodyProblem(
                    number,
                    "body",
                    "text before the first '## ' heading; start the body with '## Briefing'",
                )
            )
            break
    sections: list[BodySection] = []
    seen: dict[str, int] = {}
    for position, (start, after, title) in enumerate(headings):
        end = headings[position + 1][0] if position + 1 < len(headings) else len(lines)
        section_id = slugify(title)
        if section_id in seen:
            problems.append(
                BodyProblem(
                    start + 1,
                    f"body.{section_id}",
                    f"duplicate section '## {title}' (first at body line {seen[section_id]}); "
                    "merge the two sections",
                )
            )
            continue
        seen[section_id] = start + 1
        content = lines[after:end]
        lead = 0
        while lead < len(content) and content[lead] == "":
            lead += 1
        text = "\n".join(content[lead:]).rstrip("\n")
        sections.append(BodySection(Section(section_id, title, text), start + 1, after + 1 + lead))
    return sections, problems


def _lines(text: str) -> list[str]:
    """Split lines the way markdown-it does, so token line maps index this list."""
    return re.split(r"\r\n|\r|\n", text)


def _cells(row: str) -> list[str]:
    """Split one table row into cells on unescaped pipes (GFM rules)."""
    text = row.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", text)]


_DELIMITER_CELL = re.compile(r"^:?-+:?$")


def check_tables(markdown: str, field: str) -> list[BodyProblem]:
    """Find malformed GFM tables: rows whose cell count differs from the header's.

    Lines are 1-based relative to `markdown`. A block of pipe rows that markdown-it did not
    accept as a table (header and delimiter row disagree, or no delimiter row) is reported too.
    """
    lines = _lines(markdown)
    problems: list[BodyProblem] = []
    tokens: list[Token] = _MD.parse(markdown)
    for token in tokens:
        if token.map is None or token.level != 0:
            continue
        start, end = token.map
        block = lines[start:end]
        if token.type == "table_open":
            header = len(_cells(block[0]))
            for offset, row in enumerate(block[2:], start=2):
                if not row.strip():
                    continue
                count = len(_cells(row))
                if count != header:
                    problems.append(
                        BodyProblem(
                            start + offset + 1,
                            field,
                            f"malformed table: row has {count} cells but the header has "
                            f"{header}; give every row {header} cells",
                        )
                    )
        elif token.type == "paragraph_open" and len(block) >= 2:
            if not (block[0].lstrip().startswith("|") and block[1].lstrip().startswith("|")):
                continue
            header = len(_cells(block[0]))
            delimiter = _cells(block[1])
            if all(_DELIMITER_CELL.match(cell) for cell in delimiter):
                message = (
                    f"malformed table: the header has {header} cells but the delimiter row "
                    f"has {len(delimiter)}; make them equal"
                )
                problems.append(BodyProblem(start + 2, field, message))
            else:
                message = (
                    "malformed table: the second row must be a delimiter row like '| --- | --- |'"
                )
                problems.append(BodyProblem(start + 2, field, message))
    return problems


_BENCHMARK_HEADER = re.compile(r"\bbenchmarks?\b", re.IGNORECASE)
_INLINE_MARKUP = re.compile(r"[*_`]")


def _plain(cell: str) -> str:
    """A cell or label compared without emphasis, case or extra spaces."""
    return " ".join(_INLINE_MARKUP.sub("", cell).lower().split())


def check_metric_tables(
    markdown: str, field: str, metric_labels: Collection[str]
) -> list[BodyProblem]:
    """Find tables that repeat the seller's metrics: a 'Benchmark' column, or a row named
    exactly like one of `metric_labels`.

    The player renders `seller.metrics` as its own table (value, benchmark, gaps marked), so a
    copy in the body shows learners the same numbers twice - and a copy can drift from the
    numbers the focus is derived and graded from. Lines are 1-based relative to `markdown`.
    """
    labels = {_plain(label) for label in metric_labels}
    lines = _lines(markdown)
    problems: list[BodyProblem] = []
    for token in _MD.parse(markdown):
        if token.type != "table_open" or token.map is None or token.level != 0:
            continue
        start, end = token.map
        block = lines[start:end]
        header = _cells(block[0])
        named = [cells[0] for row in block[2:] if row.strip() and (cells := _cells(row))
                 and _plain(cells[0]) in labels]
        if any(_BENCHMARK_HEADER.search(cell) for cell in header):
            why = "it has a Benchmark column"
        elif named:
            why = f"its row '{named[0]}' is a seller.metrics label"
        else:
            continue
        problems.append(
            BodyProblem(
                start + 1,
                field,
                f"this table repeats seller.metrics ({why}); the seller page already shows "
                "every metric against its benchmark with the gaps marked: delete the table "
                "and keep the numbers in seller.metrics only",
            )
        )
    return problems
