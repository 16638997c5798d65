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


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Correctly spelled English words (pyspellchecker's frequency list, loaded once, lazily):
    a real word is never read as a typo of a lexicon word ('quantification' is not a
    misspelt 'qualification')."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.dictionary)


COMMON_WORD_COUNT = 1000
"""A word seen this often in the English frequency list is a common word, not a name."""
NAME_WORD_COUNT = 2500
"""Next to a rare name, a capitalised word below this count is a name too ('Greg Walsh')."""


@lru_cache(maxsize=1)
def _word_counts() -> dict[str, int]:
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en").word_frequency.dictionary)


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


class PhraseMatcher:
    """Finds lexicon phrases in token lists, tolerating typos and filler words; linear time."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        """Compile (key, phrase) entries."""
        # Candidates by their first stem (one-word phrases) or first two stems (longer ones),
        # so each position checks only phrases that can start there.
        self._single: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        self._by_pair: dict[tuple[str, str], list[tuple[tuple[str, ...], str, str]]] = {}
        vocabulary: dict[str, str] = {}
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for key, phrase in entries:
            stems = phrase_stems(phrase)
            if not stems or (key, stems) in seen:
                continue
            seen.add((key, stems))
            if len(stems) == 1:
                self._single.setdefault(stems[0], []).append((stems, key, phrase))
            else:
                self._by_pair.setdefault((stems[0], stems[1]), []).append((stems, key, phrase))
            for token in tokenize(phrase):
                if token.kind == "word":
                    vocabulary.setdefault(token.text, token.stem)
        self._stems = frozenset(vocabulary.values())
        # Fuzzy candidates bucketed by first letter: typos rarely hit the first letter, and the
        # bucket keeps each look-up small.
        self._buckets: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= 6:
                self._buckets.setdefault(word[0], []).append(word)
        self._vocabulary = vocabulary
        self._fuzzy_cache: dict[str, str | None] = {}

    def _fuzzy_stem(self, word: str) -> str | None:
        """The lexicon stem this (unknown) word is a typo of, or None."""
        if len(word) < 6 or word in STOPWORDS or word in english_words():
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
                found = self._vocabulary[best[0]]
        if len(self._fuzzy_cache) < 100_000:
            self._fuzzy_cache[word] = found
        return found

    def resolve(self, tokens: Sequence[Token]) -> list[tuple[str, bool]]:
        """Per token: the stem to match with and whether it came from typo tolerance."""
        resolved: list[tuple[str, bool]] = []
        for token in tokens:
            if token.kind != "word" or token.stem in self._stems:
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
            for stems, key, phrase in candidates:
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
    ) -> list[tuple[tuple[str, ...], str, str]]:
        """Phrases that can match from token i: by its stem, and by its stem paired with the
        next stem (after at most two filler words)."""
        first = resolved[i][0]
        found = list(self._single.get(first, ()))
        n = len(tokens)
        j = i + 1
        while j < n and j <= i + 3:
            found.extend(self._by_pair.get((first, resolved[j][0]), ()))
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
