"""The plan part of a long answer: which paragraphs say what the manager will do.

A very long answer (rubric D9: 2,000+ words) is mostly diagnosis - the seller's numbers, every
task weighed and set aside, the requests from others - and the plan it commits to comes late,
after "so here is the plan". Grading its opening characters reads only the diagnosis; grading
all of it lets context mentions of other tasks pile up. Instead the grader reads the paragraphs
that commit: sentences in the future or first-person plural ("I will", "we'll", "she is going
to"), a calendar ("every Friday", "week two", "on Monday"), a focus claim ("my focus this month
is", "what I want to work on"), and the summary a long answer often ends on ("in one line",
"to sum up"). Paragraphs are ranked by that density, the best taken up to the character budget
and kept in their order; the others are blanked out (spaces, newlines kept), so every character
offset - the evidence spans - still points into the original answer. An answer without
paragraphs or without any committing sentence keeps its opening characters, as before.

Linear in the answer's length (regular expressions without nested repetition)."""

from __future__ import annotations

import re

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n")
_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|mon|tue|wed|thu|thurs|fri)"
COMMIT_RE = re.compile(
    r"\b(?:i|we|he|she|they|you)\s*(?:['’]ll|will|shall|['’]m going to|am going to|"
    r"are going to|['’]re going to|is going to)\b"
    r"|\blet['’]s\b"
    rf"|\b(?:every|each|on|by|next|this|from)\s+{_DAYS}s?\b"
    r"|\b(?:every|each)\s+(?:week|day|morning|fortnight|two weeks|other week)\b"
    r"|\bweeks?\s+(?:one|two|three|four|1|2|3|4)\b"
    r"|\b(?:first|second|third|fourth|last) week\b",
    re.IGNORECASE,
)
"""A sentence that commits to something the manager or the seller will do."""
CLAIM_RE = re.compile(
    r"\b(?:my|the|our|her|his|their) (?:\w+ )?(?:focus|priority)\b"
    r"|\bwork(?:ing)? on with\b|\bwant to work on\b|\bthe one thing\b"
    r"|\b(?:here is|here['’]s) (?:the|my) plan\b|\bthe plan (?:is|for)\b",
    re.IGNORECASE,
)
"""A paragraph that names what the month is about."""
SUMMARY_RE = re.compile(
    r"\b(?:in one line|in short|in summary|to sum up|to summari[sz]e|bottom line|"
    r"in a sentence|in a nutshell|tl;?dr)\b",
    re.IGNORECASE,
)
"""A paragraph that restates the plan in brief: the densest statement of what it commits to."""


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank paragraph: blank lines separate paragraphs."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def plan_score(paragraph: str) -> float:
    """How much a paragraph commits: the share of its sentences that commit, plus one for a
    focus claim and one for a summary."""
    sentences = [s for s in _SENTENCE_SPLIT.split(paragraph) if s.strip()]
    if not sentences:
        return 0.0
    committing = sum(1 for s in sentences if COMMIT_RE.search(s))
    score = committing / len(sentences)
    if CLAIM_RE.search(paragraph):
        score += 1.0
    if SUMMARY_RE.search(paragraph):
        score += 1.0
    return score


def plan_part(text: str, budget: int) -> str | None:
    """`text` with everything but its best plan paragraphs (at most `budget` characters of
    them) blanked out, same length and offsets; None when no paragraph commits to anything
    (the caller then reads the opening characters)."""
    spans = paragraphs(text)
    if len(spans) < 2:
        return None
    scored = [(plan_score(text[a:b]), a, b) for a, b in spans]
    # Best first; among equals the later paragraph (plans come after the diagnosis).
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], -s[1]))
    chosen: list[tuple[int, int]] = []
    seen: set[str] = set()
    used = 0
    for _, a, b in ranked:
        if used + (b - a) > budget:
            continue
        sentences = {_normal(s) for s in _SENTENCE_SPLIT.split(text[a:b]) if s.strip()}
        if sentences and len(sentences - seen) < 0.5 * len(sentences):
            continue  # a repeated paragraph ("Day 9: ... the same day again") adds nothing
        seen |= sentences
        chosen.append((a, b))
        used += b - a
    if not chosen:
        return None
    chosen.sort()
    parts: list[str] = []
    position = 0
    for a, b in chosen:
        parts.append(_blank(text[position:a]))
        parts.append(text[a:b])
        position = b
    parts.append(_blank(text[position:]))
    return "".join(parts)


def _normal(sentence: str) -> str:
    """A sentence compared for repetition: case and spacing ignored."""
    return " ".join(sentence.casefold().split())


def _blank(segment: str) -> str:
    """Spaces for every character but line breaks (sentences stay apart, offsets unchanged)."""
    return re.sub(r"[^\n]", " ", segment)
