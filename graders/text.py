"""Linear-time text analysis for free-text graders: tokens with spans, normalised stems, phrases.

Every token keeps the character span it came from in the ORIGINAL response, so evidence can
point at the learner's own words. Matching works on normalised stems: case-folded, NFKC,
British spellings mapped to American ones (prioritise/prioritize), contractions expanded
("I'll" -> "i will", "don't" -> "do not"), then Snowball-stemmed. Words that miss the lexicon
are compared with an optimal-string-alignment distance (rapidfuzz) so typos still match - unless
they are correctly spelled English words (pyspellchecker's word list); such matches are marked
fuzzy so graders can lower their confidence. `proper_names` finds the people, companies and
places in a scenario's own text, so graders can use them without authoring.

Only bounded work is done per token (dictionary look-ups, a fuzzy look-up against a fixed
vocabulary, phrase checks of bounded length), and the regular expressions have no nested
ambiguity, so analysis is linear in the length of the text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer  # type: ignore[import-untyped]
from rapidfuzz import process
from rapidfuzz.distance import OSA

# Words (letters with inner apostrophes), numbers (with decimals and a percent sign) and the
# punctuation that ends a clause. Each alternative is unambiguous, so matching is linear.
_TOKEN_RE = re.compile(
    r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*%?|[.;:!?,()\n–—]|(?<=\s)-(?=\s)"
)

_STEMMERS = threading.local()
"""One Snowball stemmer per thread: a stemmer keeps its working word in the instance, so two
threads of one web worker sharing it garble each other's stems."""

PUNCT = frozenset(".;:!?,()\n–—-")

_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "won't": ("will", "not"),
    "wont": ("will", "not"),
    "can't": ("can", "not"),
    "cant": ("can", "not"),
    "cannot": ("can", "not"),
    "shan't": ("shall", "not"),
    "let's": ("let", "us"),
    "lets": ("let", "us"),
    "dont": ("do", "not"),
    "doesnt": ("does", "not"),
    "didnt": ("did", "not"),
    "isnt": ("is", "not"),
    "arent": ("are", "not"),
    "wasnt": ("was", "not"),
    "shouldnt": ("should", "not"),
    "wouldnt": ("would", "not"),
    "im": ("i", "am"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "persons": ("people",),
    "ill": ("i", "will"),
    "ive": ("i", "have"),
}

_SUFFIX_EXPANSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("n't", ("not",)),
    ("'ll", ("will",)),
    ("'re", ("are",)),
    ("'ve", ("have",)),
    ("'d", ("would",)),
    ("'m", ("am",)),
)

# "'s" is "is" after these words and a possessive (dropped) everywhere else.
_IS_HOSTS = frozenset({"he", "she", "it", "that", "there", "what", "who", "here", "this"})

# British -> American spellings, applied to both the lexicon and the answer, so the mapping only
# has to be consistent, not linguistically perfect.
_SPELLING_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("isations", "izations"),
    ("isation", "ization"),
    ("ising", "izing"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ise", "ize"),
    ("yse", "yze"),
    ("ysing", "yzing"),
    ("ysed", "yzed"),
    ("iour", "ior"),
    ("iours", "iors"),
    ("bour", "bor"),
    ("vour", "vor"),
    ("lour", "lor"),
    ("lling", "ling"),
    ("lled", "led"),
    ("tre", "ter"),
    ("tres", "ters"),
    ("programme", "program"),
    ("programmes", "programs"),
)

# Common function words never worth a fuzzy look-up (they would only produce false matches).
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up us very was we were what when
    where which while who whom why will with would you your yours yourself""".split()
)


_WORD_COUNTS_LOCK = threading.Lock()
_WORD_COUNTS: dict[str, int] | None = None
"""pyspellchecker's English frequency list (160k words, ~37 MB of RSS), loaded on first use.
One load serves the word set and the counts, under a lock: the first submissions reach a web
worker on several threads at once, and each concurrent load held its own copy at the peak."""


def _load_word_counts() -> dict[str, int]:
    from spellchecker import SpellChecker

    # Keep the frequency Counter (a dict), not the SpellChecker around it.
    return SpellChecker(language="en").word_frequency.dictionary


def _word_counts() -> dict[str, int]:
    global _WORD_COUNTS
    counts = _WORD_COUNTS
    if counts is None:
        with _WORD_COUNTS_LOCK:
            if _WORD_COUNTS is None:
                _WORD_COUNTS = _load_word_counts()
            counts = _WORD_COUNTS
    return counts


def english_words() -> AbstractSet[str]:
    """Correctly spelled English words (pyspellchecker's frequency list, loaded once, lazily):
    a real word is never read as a typo of a lexicon word ('quantification' is not a
    misspelt 'qualification'). A view of the frequency list's keys, not a copy."""
    return _word_counts().keys()


COMMON_WORD_COUNT = 1000
"""A word seen this often in the English frequency list is a common word, not a name."""
NAME_WORD_COUNT = 2500
"""Next to a rare name, a capitalised word below this count is a name too ('Greg Walsh')."""


def is_common_word(word: str) -> bool:
    """'director', 'shipping': everyday English; 'Dijk', 'Kenji', 'Glasgow': not."""
    return _word_counts().get(word.casefold(), 0) >= COMMON_WORD_COUNT


_NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\S")
_SENTENCE_STARTERS = frozenset(".!?|#:*>-\"(•")
_CALENDAR = frozenset(
    "i monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december".split()
)


def proper_names(texts: Iterable[str], exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """Names of people, companies and places in `texts`: runs of capitalised words that are not
    at the start of a sentence, a heading or a table cell, keeping the words never written in
    lower case in the same texts, and each part of a run that is not an everyday word ('Van
    Dijk Logistics', 'Dijk', 'Kenji Watanabe'). Short acronyms (VP, CRM) and `exclude` (the
    seller's own name) are left out."""
    texts = list(texts)
    lower: set[str] = set()
    runs: set[tuple[str, ...]] = set()
    for text in texts:
        run: list[str] = []
        previous = "."
        for match in _NAME_TOKEN_RE.finditer(text):
            word = match.group()
            if word[0].isalpha():
                if word[0].islower():
                    lower.add(word.casefold())
                capital = (
                    word[0].isupper()
                    and (previous not in _SENTENCE_STARTERS or not is_common_word(word))
                    and not (word.isupper() and len(word) <= 4)
                    and "'" not in word and "’" not in word
                )
                if capital:
                    run.append(word)
                elif run:
                    runs.add(tuple(run))
                    run = []
                previous = word
            else:
                if run:
                    runs.add(tuple(run))
                    run = []
                previous = word
        if run:
            runs.add(tuple(run))
    excluded = {e.casefold() for e in exclude} | _CALENDAR
    names: set[str] = set()
    for found in runs:
        parts = [p for p in found if p.casefold() not in excluded]
        if not parts or all(p.casefold() in lower for p in parts):
            continue
        rare = [len(p) >= 3 and not is_common_word(p) for p in parts]
        if any(rare):
            # In a run with a rare part, a part never written in lower case is a name too
            # ('Greg' of 'Greg Walsh'); 'Dental' of 'Oakridge Dental' is an everyday word.
            rare = [
                r or (len(p) >= 3 and p.casefold() not in lower and _word_counts().get(
                    p.casefold(), 0) < NAME_WORD_COUNT)
                for r, p in zip(rare, parts, strict=True)
            ]
        if not any(rare):
            continue
        for i in range(len(parts)):
            for j in range(i + 1, len(parts) + 1):
                if any(rare[i:j]):
                    names.add(" ".join(parts[i:j]))
    return tuple(sorted(names))


class Token(NamedTuple):
    """One normalised token and the span of the original text it came from (a NamedTuple, not
    a frozen dataclass: answers make many tokens and tuples are several times faster to build)."""

    text: str
    """The normalised (case-folded, American-spelled) word, or the punctuation mark."""
    stem: str
    start: int
    end: int
    kind: str
    """'word', 'number' or 'punct'."""


@lru_cache(maxsize=65536)
def normalise_word(word: str) -> str:
    """Case-fold, NFKC-normalise and Americanise one word."""
    w = unicodedata.normalize("NFKC", word).casefold().replace("’", "'")
    for british, american in _SPELLING_SUFFIXES:
        if w.endswith(british) and len(w) > len(british) + 1:
            return w[: -len(british)] + american
    return w


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of an already normalised word."""
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


@lru_cache(maxsize=65536)
def _expand(word: str) -> tuple[str, ...]:
    """Split a normalised word into the words it abbreviates ("i'll" -> ("i", "will"))."""
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if "'" not in word:
        return (word,)
    if word.endswith("'s"):
        host = word[:-2]
        return (host, "is") if host in _IS_HOSTS else (host,)
    for suffix, words in _SUFFIX_EXPANSIONS:
        if word.endswith(suffix) and len(word) > len(suffix):
            host = word[: -len(suffix)]
            if suffix == "n't" and host in {"ca", "wo", "sha"}:
                host = {"ca": "can", "wo": "will", "sha": "shall"}[host]
            return (host, *words)
    return (word.replace("'", ""),)


@lru_cache(maxsize=65536)
def _word_forms(raw: str) -> tuple[tuple[str, str], ...]:
    """(normalised word, stem) for each word a raw word stands for."""
    return tuple((word, stem(word)) for word in _expand(normalise_word(raw)))


def tokenize(text: str) -> list[Token]:
    """Tokens of `text` (words, numbers, clause punctuation), each with its original span."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        start, end = match.span()
        first = raw[0]
        if first in PUNCT:
            append(Token(raw, raw, start, end, "punct"))
        elif first.isdigit():
            append(Token(raw, raw, start, end, "number"))
        else:
            for word, word_stem in _word_forms(raw):
                append(Token(word, word_stem, start, end, "word"))
    return tokens


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """The stems a lexicon phrase matches (punctuation inside a phrase is ignored)."""
    return tuple(t.stem for t in tokenize(phrase) if t.kind != "punct")


@dataclass(frozen=True)
class PhraseMatch:
    """One lexicon phrase found in a token list."""

    key: str
    """What the phrase stands for (a task id, 'action', 'takeover', ...)."""
    phrase: str
    """The lexicon phrase as written."""
    first: int
    """Index of the first matched token."""
    last: int
    """Index of the last matched token (inclusive)."""
    start: int
    """Character span in the original text."""
    end: int
    fuzzy: bool
    """True when at least one word matched only by typo tolerance."""


# Small words that may sit between the words of a phrase ("review of her pipeline").
_FILLERS = frozenset({"the", "a", "an", "her", "his", "their", "our", "my", "of", "for", "to"})

_Candidate = tuple[int, tuple[str, ...], str, str]
"""(order, stems, key, phrase): a compiled phrase; `order` is its place in the whole lexicon."""

_SEGMENT = 1 << 32
"""Orders of the phrases of segment r start at r * _SEGMENT."""


class PhraseSet:
    """Compiled (key, phrase) entries, immutable, so one PhraseSet can serve many matchers: the
    part of a lexicon that every variant of a scenario shares is compiled once.

    `segments` maps a rank to its entries. A matcher of several PhraseSets matches exactly as one
    matcher of all their entries concatenated in rank order would, so a lexicon can interleave
    shared and per-variant parts without changing what it finds."""

    def __init__(self, segments: dict[int, Iterable[tuple[str, str]]]) -> None:
        # Candidates by their first stem (one-word phrases) or first two stems (longer ones),
        # so each position checks only phrases that can start there.
        self.single: dict[str, list[_Candidate]] = {}
        self.by_pair: dict[tuple[str, str], list[_Candidate]] = {}
        self.vocabulary: dict[str, str] = {}
        kept: list[tuple[int, str, tuple[str, ...], tuple[str, ...]]] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for rank in sorted(segments):
            for index, (key, phrase) in enumerate(segments[rank]):
                tokens = [t for t in tokenize(phrase) if t.kind != "punct"]
                stems = tuple(t.stem for t in tokens)
                if not stems or (key, stems) in seen:
                    continue
                seen.add((key, stems))
                candidate = (rank * _SEGMENT + index, stems, key, phrase)
                if len(stems) == 1:
                    self.single.setdefault(stems[0], []).append(candidate)
                else:
                    self.by_pair.setdefault((stems[0], stems[1]), []).append(candidate)
                words = tuple(t.text for t in tokens if t.kind == "word")
                kept.append((candidate[0], key, stems, words))
                for token in tokens:
                    if token.kind == "word":
                        self.vocabulary.setdefault(token.text, token.stem)
        self.kept = tuple(kept)
        """(order, key, stems, words) of each phrase compiled, in order."""
        self.stems = frozenset(self.vocabulary.values())


class PhraseMatcher:
    """Finds lexicon phrases in token lists, tolerating typos and filler words; linear time."""

    def __init__(self, *parts: PhraseSet | Iterable[tuple[str, str]]) -> None:
        """Match the phrases of `parts`: compiled PhraseSets (which may be shared with other
        matchers; their ranks must differ) or (key, phrase) entries, compiled here as rank 0.
        A phrase one set repeats from an earlier one finds the same span, and the earlier
        one, coming first, is the match kept, as in a single list where it is dropped."""
        self._sets = tuple(p if isinstance(p, PhraseSet) else PhraseSet({0: p}) for p in parts)
        # The vocabulary in lexicon order, as if all the phrases were one list: a phrase that
        # repeats an earlier (key, stems) adds no words.
        vocabulary: dict[str, None] = {}
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for _, key, stems, words in sorted(
            (entry for s in self._sets for entry in s.kept), key=lambda entry: entry[0]
        ):
            if (key, stems) in seen:
                continue
            seen.add((key, stems))
            for word in words:
                vocabulary.setdefault(word)
        # Fuzzy candidates bucketed by first letter: typos rarely hit the first letter, and the
        # bucket keeps each look-up small.
        self._buckets: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= 6:
                self._buckets.setdefault(word[0], []).append(word)
        self._fuzzy_cache: dict[str, str | None] = {}
        # The first set's indexes serve as they are; a stem or pair that a later set also
        # starts gets its merged candidates (in lexicon order) in a small overlay, so matching
        # costs two look-ups however the lexicon is split.
        first, later = self._sets[0], self._sets[1:]
        self._single, self._by_pair, self._stems = first.single, first.by_pair, first.stems
        self._single_overlay: dict[str, list[_Candidate]] = {}
        self._pair_overlay: dict[tuple[str, str], list[_Candidate]] = {}
        for s in later:
            for stem_key in s.single:
                self._single_overlay[stem_key] = sorted(
                    c for t in self._sets for c in t.single.get(stem_key, ())
                )
            for pair_key in s.by_pair:
                self._pair_overlay[pair_key] = sorted(
                    c for t in self._sets for c in t.by_pair.get(pair_key, ())
                )
        self._overlay_stems = frozenset().union(*(s.stems for s in later)) - first.stems

    def _stem_of(self, word: str) -> str:
        """The stem of a lexicon word."""
        return next(s.vocabulary[word] for s in self._sets if word in s.vocabulary)

    def _fuzzy_stem(self, word: str) -> str | None:
        """The lexicon stem this (unknown) word is a typo of, or None."""
        if len(word) < 6 or word in STOPWORDS or word in _word_counts():
            return None
        cached = self._fuzzy_cache.get(word, "")
        if cached != "":
            return cached
        bucket = self._buckets.get(word[0])
        found: str | None = None
        if bucket:
            limit = 2 if len(word) >= 10 else 1
            best = process.extractOne(word, bucket, scorer=OSA.distance, score_cutoff=limit)
            if best is not None:
                found = self._stem_of(best[0])
        if len(self._fuzzy_cache) < 100_000:
            self._fuzzy_cache[word] = found
        return found

    def resolve(self, tokens: Sequence[Token]) -> list[tuple[str, bool]]:
        """Per token: the stem to match with and whether it came from typo tolerance."""
        resolved: list[tuple[str, bool]] = []
        stems, overlay_stems = self._stems, self._overlay_stems
        for token in tokens:
            if token.kind != "word" or token.stem in stems or token.stem in overlay_stems:
                resolved.append((token.stem, False))
                continue
            fuzzy = self._fuzzy_stem(token.text)
            resolved.append((fuzzy, True) if fuzzy is not None else (token.stem, False))
        return resolved

    def find(
        self, tokens: Sequence[Token], resolved: Sequence[tuple[str, bool]] | None = None
    ) -> list[PhraseMatch]:
        """All phrase occurrences, longest first at each position, not overlapping per key."""
        if resolved is None:
            resolved = self.resolve(tokens)
        matches: list[PhraseMatch] = []
        taken_until: dict[str, int] = {}
        n = len(tokens)
        for i in range(n):
            candidates = self._candidates(tokens, resolved, i)
            if not candidates:
                continue
            best_per_key: dict[str, PhraseMatch] = {}
            for _, stems, key, phrase in candidates:
                if taken_until.get(key, -1) >= i:
                    continue
                last = self._match_at(tokens, resolved, i, stems)
                if last is None:
                    continue
                fuzzy = any(resolved[k][1] for k in range(i, last + 1))
                found = PhraseMatch(
                    key, phrase, i, last, tokens[i].start, tokens[last].end, fuzzy
                )
                current = best_per_key.get(key)
                if current is None or (found.last - found.first) > (current.last - current.first):
                    best_per_key[key] = found
            for key, found in best_per_key.items():
                matches.append(found)
                taken_until[key] = found.last
        return matches

    def _candidates(
        self, tokens: Sequence[Token], resolved: Sequence[tuple[str, bool]], i: int
    ) -> list[_Candidate]:
        """Phrases that can match from token i: by its stem, and by its stem paired with the
        next stem (after at most two filler words)."""
        first = resolved[i][0]
        found = list(self._single_overlay.get(first) or self._single.get(first) or ())
        n = len(tokens)
        j = i + 1
        while j < n and j <= i + 3:
            pair = (first, resolved[j][0])
            found.extend(self._pair_overlay.get(pair) or self._by_pair.get(pair) or ())
            if tokens[j].text not in _FILLERS:
                break
            j += 1
        return found

    @staticmethod
    def _match_at(
        tokens: Sequence[Token],
        resolved: Sequence[tuple[str, bool]],
        i: int,
        stems: tuple[str, ...],
    ) -> int | None:
        """Index of the last token when `stems` match from token i (fillers may sit between)."""
        position = i
        n = len(tokens)
        for k, wanted in enumerate(stems):
            if k == 0:
                continue
            position += 1
            skipped = 0
            while (
                position < n
                and resolved[position][0] != wanted
                and tokens[position].text in _FILLERS
                and skipped < 2
            ):
                position += 1
                skipped += 1
            if position >= n or resolved[position][0] != wanted:
                return None
        return position
