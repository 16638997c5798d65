"""Reading content files: size, encoding, front matter and YAML with a line for every field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scenarios.errors import ScenarioError

MAX_FILE_BYTES = 1024 * 1024
"""Content files larger than this (1 MB) are rejected: they are not hand-written scenarios."""

PathKey = tuple[str | int, ...]
LineMap = Mapping[PathKey, int]


def format_path(path: PathKey) -> str:
    """('steps', 2, 'options', 0, 'task') -> 'steps[2].options[0].task'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_for(lines: LineMap, path: PathKey) -> int | None:
    """The line of the longest prefix of `path` that has a known line."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def read_text(path: Path, source: str) -> tuple[bytes, str]:
    """Read a content file as UTF-8, rejecting oversized, empty and non-UTF-8 files."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read the file: {exc.strerror}") from exc
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            source,
            "",
            f"file is {size} bytes; the limit is 1 MB ({MAX_FILE_BYTES} bytes): "
            "split it or remove pasted data",
        )
    data = path.read_bytes()
    return data, decode(data, source)


def decode(data: bytes, source: str) -> str:
    """Decode UTF-8 (a BOM is dropped), naming the offset of the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            source,
            "",
            f"file is {len(data)} bytes; the limit is 1 MB ({MAX_FILE_BYTES} bytes): "
            "split it or remove pasted data",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            source,
            "",
            f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}; "
            "save the file as UTF-8",
            line,
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ScenarioError(
            source, "", "empty file; a content file starts with '---' and YAML front matter"
        )
    return text


_FENCE = re.compile(r"^---[ \t]*$")


@dataclass(frozen=True)
class FrontMatterFile:
    """A Markdown file split into YAML front matter and body."""

    front_matter: str
    body: str
    body_line: int
    """1-based file line of the first body line."""


def split_front_matter(text: str, source: str) -> FrontMatterFile:
    """Split '---' YAML front matter from the Markdown body."""
    lines = text.split("\n")
    if not _FENCE.match(lines[0].rstrip("\r")):
        raise ScenarioError(
            source, "", "the file must start with a '---' line opening the YAML front matter", 1
        )
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index].rstrip("\r")):
            return FrontMatterFile(
                "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
            )
    raise ScenarioError(
        source, "", "no closing '---' line after the front matter; add one before the body", 1
    )


# libyaml's CSafeLoader has the same safe_load semantics and marks, and is much faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML (safe_load semantics) and the file line of every field path."""

    data: Any
    lines: LineMap


def parse_yaml(text: str, source: str, first_line: int = 1) -> YamlDocument:
    """Parse YAML with SafeLoader semantics, keeping each node's line (offset by first_line)."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {(): first_line})
        lines: dict[PathKey, int] = {}
        problems: list[ScenarioError] = []
        _collect_lines(node, (), lines, first_line, source, problems, set())
        if problems:
            first = problems[0]
            raise ScenarioError(
                first.source, first.field, first.message, first.line, problems=tuple(problems)
            )
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + first_line
        problem = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.context and context is not None and context.line + first_line != line:
            problem += f" ({exc.context} started at line {context.line + first_line})"
        raise ScenarioError(
            source,
            "",
            f"YAML syntax error: {problem}; check the indentation and quote values "
            "containing ': ' or '#'",
            line,
        ) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"YAML syntax error: {exc}") from exc
    finally:
        loader.dispose()
    return YamlDocument(data, lines)


MAX_DEPTH = 40
"""Deepest nesting of YAML collections accepted (scenarios need fewer than 10 levels)."""


def _collect_lines(
    node: Node,
    path: PathKey,
    lines: dict[PathKey, int],
    first_line: int,
    source: str,
    problems: list[ScenarioError],
    seen: set[int],
) -> None:
    # A mapping value is reported at its key's line (already recorded by the caller).
    line = lines.get(path, node.start_mark.line + first_line)
    if isinstance(node, MappingNode | SequenceNode):
        # An alias makes two paths share one node; aliases of aliases grow exponentially when
        # walked, so content files may not use them at all.
        if id(node) in seen:
            problems.append(
                ScenarioError(
                    source,
                    format_path(path),
                    "YAML aliases (*name) and merge keys (<<) are not supported; "
                    "write the value out",
                    line,
                )
            )
            return
        seen.add(id(node))
        if len(path) > MAX_DEPTH:
            problems.append(
                ScenarioError(
                    source, format_path(path), f"nested deeper than {MAX_DEPTH} levels", line
                )
            )
            return
    lines.setdefault(path, line)
    if isinstance(node, MappingNode):
        keys: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            key = str(key_node.value)
            key_line = key_node.start_mark.line + first_line
            if key in keys:
                problems.append(
                    ScenarioError(
                        source,
                        format_path((*path, key)),
                        f"duplicate key '{key}' (first at line {keys[key]}); keep one",
                        key_line,
                    )
                )
            keys[key] = key_line
            lines[(*path, key)] = key_line
            _collect_lines(value_node, (*path, key), lines, first_line, source, problems, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines, first_line, source, problems, seen)
