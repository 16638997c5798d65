"""The one Markdown configuration: safe rendering, tables, sections."""

from __future__ import annotations

import pytest

from scenarios.markdown import (
    check_metric_tables,
    check_tables,
    is_allowed_link,
    render,
    split_sections,
)


def test_raw_html_is_escaped() -> None:
    html = render("Hello <script>alert(1)</script> <b>bold</b>\n\n<div onclick='x'>block</div>")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<div" not in html
    assert "&lt;div onclick=" in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
    ],
)
def test_unsafe_links_are_dropped(url: str) -> None:
    html = render(f"[click]({url}) and ![img]({url})")
    assert "href" not in html
    assert "<img" not in html
    assert "click" in html


def test_scheme_is_checked_after_ignoring_control_characters() -> None:
    assert not is_allowed_link("java\tscript:alert(1)")
    assert not is_allowed_link(" javascript:alert(1)")
    assert not is_allowed_link("java\x00script:alert(1)")


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[a](https://example.com/x)", 'href="https://example.com/x"'),
        ("[a](http://example.com)", 'href="http://example.com"'),
        ("[a](mailto:coach@example.com)", 'href="mailto:coach@example.com"'),
        ("[a](../lessons/start.md)", 'href="../lessons/start.md"'),
        ("[a](#exhibits)", 'href="#exhibits"'),
    ],
)
def test_safe_links_are_kept(source: str, href: str) -> None:
    assert href in render(source)


def test_bare_urls_are_not_linkified() -> None:
    assert "<a" not in render("see https://example.com today")


def test_tables_render() -> None:
    html = render("| A | B |\n| --- | --- |\n| 1 | 2 |\n")
    assert "<table>" in html
    assert "<td>2</td>" in html


def test_sections_split_on_level_two_headings_only() -> None:
    body = (
        "\n## Briefing\n\nText.\n\n### Sub\n\nMore.\n\n"
        "```\n## not a heading\n```\n\n## Teaching notes\n\nNotes.\n"
    )
    sections, problems = split_sections(body)
    assert problems == []
    assert [(s.section.id, s.section.title, s.line) for s in sections] == [
        ("briefing", "Briefing", 2),
        ("teaching-notes", "Teaching notes", 14),
    ]
    assert "## not a heading" in sections[0].section.markdown
    assert sections[1].section.markdown == "Notes."
    assert sections[1].first_content_line == 16


def test_text_before_the_first_section_and_duplicates_are_problems() -> None:
    _, problems = split_sections("Intro.\n\n## Briefing\n\nA\n\n## Briefing\n\nB\n")
    assert [(p.line, p.message.split(";")[0]) for p in problems] == [
        (1, "text before the first '## ' heading"),
        (7, "duplicate section '## Briefing' (first at body line 3)"),
    ]


def test_table_rows_must_match_the_header() -> None:
    markdown = (
        "Intro\n\n| A | B |\n| --- | --- |\n| 1 | 2 |\n| 3 |\n| 4 | 5 | 6 |\n| a \\| b | c |\n"
    )
    problems = check_tables(markdown, "body.exhibits")
    assert [(p.line, p.message) for p in problems] == [
        (6, "malformed table: row has 1 cells but the header has 2; give every row 2 cells"),
        (7, "malformed table: row has 3 cells but the header has 2; give every row 2 cells"),
    ]


def test_quoted_and_setext_headings() -> None:
    body = "## Briefing\n\n> ## quoted, not a section\n\nNotes\n--------\n\nUnder setext.\n"
    sections, problems = split_sections(body)
    assert problems == []
    assert [(s.section.id, s.line, s.first_content_line) for s in sections] == [
        ("briefing", 1, 3),
        ("notes", 5, 8),
    ]
    assert sections[1].section.markdown == "Under setext."


def test_windows_line_endings_keep_line_numbers() -> None:
    markdown = "| A | B |\r\n| --- | --- |\r\n| 1 |\r\n"
    assert [p.line for p in check_tables(markdown, "body")] == [3]


def test_a_table_repeating_the_metrics_is_a_problem() -> None:
    labels = ["Accounts touched", "Win rate"]
    markdown = (
        "| Fact | Value |\n| --- | --- |\n| Accounts owned | 300 |\n\n"
        "| Metric | Ana | Team **benchmark** |\n| --- | --- | --- |\n| Deals | 3 | 4 |\n\n"
        "| Metric | Ana | Team average |\n| --- | --- | --- |\n| *win  RATE* | 31% | 28% |\n"
    )
    problems = check_metric_tables(markdown, "body.exhibits", labels)
    assert [(p.line, p.field, p.message.split(";")[0]) for p in problems] == [
        (5, "body.exhibits", "this table repeats seller.metrics (it has a Benchmark column)"),
        (9, "body.exhibits",
         "this table repeats seller.metrics (its row '*win  RATE*' is a seller.metrics label)"),
    ]
    assert check_metric_tables(markdown.split("\n\n")[0], "body.exhibits", labels) == []
