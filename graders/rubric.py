"""The coaching_plan grader: a free-text rubric scored with linear-time, explainable matching.

Criteria (default points; a scenario may relabel or re-point them with `criteria` of the same
ids):

- focus (40): the plan names and commits to the derived focus task - through the catalogue's
  label and synonyms, the scenario's own wording for it and a built-in lexicon (names and
  plain-language paraphrases of each task), with stemming, British/American spelling and typo
  tolerance (real English words are never read as typos), plus concepts named by meaning
  (CONCEPT_PAIRS: "split the 300 into three groups" is tiering; weak evidence that never alone
  earns full marks). Negated mentions in the manager's voice ("not negotiation", "rather than
  coverage", "X is not the issue", "it's not X", a later "X is marketing's job, not hers" or
  "not going to load her with that") and praise ("her negotiation is excellent") do not name a
  task - praise used as the means ("use that trust for enablement") does not praise the task
  after "for"; a negated aside after the focus ("X (not the customer side - that's her
  strength)") contrasts something else; a negated description of the seller ("customers never
  saw the ROI", "Tomas is not listening", "Fernhill: no ROI") names the gap; "instead, we work
  on X" and "X, not his lead flow" affirm X; a reason clause ("so we don't lose it") rejects
  nothing. A focus the plan rules out at least as firmly as it names it - per sentence the last
  mention decides, and the object of a refused takeover does not count - is not named ("her
  coverage looks bad, but we will not build a coverage plan", rubric D1). The seller's strength
  named as hers ("Laura's discovery") outside a focus sentence is context. Generic development
  (leadership, mindset, motivation) competes for attention as a pseudo-task that is never the
  focus. Attention per task is the strongest mention per sentence, summed: sentences that claim
  a focus (focus, main, priority, problem, gap, work on, "is about" but not "27 a month", an
  opening heading "X:" or a short opening sentence) weigh 2, the manager's voice 1, plain
  description 0.5; secondary remarks, parenthetical asides, weak everyday phrases ("pipeline",
  "deal review") and one-word or concept mentions of a task outside this job count half. Full
  credit when the focus gets the most attention and no other task gets 0.75 of it; 0.55 when
  another task gets as much (two equal foci); nothing when another task dominates, when the
  answer names most of the critical tasks (or four tasks) without one clearly leading, or when
  it is a list or a repetition of keywords (not committal; fragments without grammar that name
  four or more tasks are a list whatever their title) - a task counts as named there only with
  at least half the top task's attention (LISTED_SHARE): a passing "weekly deal review" beside a
  claimed focus is context, not a list. A plan that declares two tasks equal ("equal priority",
  "the same time", "as important as") earns 0.55 at most.
- situation (21): ties the plan to this seller - the rubric's situation_terms, numbers from the
  seller's metrics, facts, notes and exhibits, and the proper names in that data (people,
  customers, partners, places: every scenario gets them without authoring). The seller's name
  alone earns nothing (a plan that fits any seller after a find-and-replace of the name is
  generic).
- action (21): a concrete coaching action done with the seller: the rubric's actions, a built-in
  lexicon (ride-along, role-play, call review, joint territory plan, weekly review, ...), or a
  clause that pairs a cadence or "together" with a coaching activity.
- approach (18): no anti-pattern - the manager does not take over the seller's job (rubric
  takeover_patterns, first-person takeover phrases, and by grammatical agent: "I" as the subject
  of a contacting or selling verb whose object is the customer's people or a person named in the
  scenario - "I'll have a word with Kenji", not "she calls the CFO, I role-play it with her
  first"; one bounded demonstration after which the seller leads, a request the manager
  declines - "I am going to say no to that" - and dealing with whoever asked for the takeover
  are allowed; "his first calls for the next month" or "his next few calls" are not one
  demonstration), does not send the seller to a generic course (a course ruled out or weighed -
  "sending her on a course would coach a strength" - is not planned), and does not make the
  seller's strength the plan's main subject.

Situation and action points are earned in full only when the focus is fully right, at half rate
with two equal foci, and not at all for a wrong focus (a concrete plan for the wrong task is not
a plan for this seller's gap); an action does not count when the manager takes the work over or
hands it to a course. With these points the score lands in the agreed label bands: right focus +
specific + concrete + coaching = 1.0 (label 2); right focus missing any one of them 0.40-0.79
(label 1); two equal foci 0.40-0.79; wrong focus 0 (label 0): every criterion earns points only
in a plan whose focus is at least partly right.

Full marks need strong evidence (`weak_evidence` lists what is missing): the focus named by at
least one non-fuzzy, non-everyday phrase or by two independent matches, claimed as the plan's
subject (a focus sentence, a title or the manager's voice) rather than mentioned once in
passing, no other task claimed with 0.6 of its attention, the seller's strength below half of
it, and no "even more/earlier/deeper" (more of what the seller already does may deepen the gap,
rubric D12). A would-be full-marks answer without such evidence is held at 0.75 (label 1) and
goes to review: a wrong-focus plan given full marks is the worst error the grader can make.
Everyday words are enough when they describe the focus across the plan or inside its actions
("we sort her 280 into three piles ... Fridays she shows me who she reached", rubric D8) with
no rival claimed; an everyday word claimed once as the subject ("Pipeline: ...") stays thin.
A coaching plan that names no task at all but is built on the seller's numbers or accounts that
belong to the focus task alone (the scenario's metrics and notes are tagged with their task)
and on none of another task's, with a concrete action and no takeover, is read as working on
the focus (rubric D8: a metaphor on the seller's own data) - held at 0.75 and sent to review:
data alone never earns full marks (a wrong-focus plan quotes the same accounts).
In a sentence whose first mention of a task rejects it, later mentions of that task give the
reason ("negotiation is not the issue - he wins every price fight"), unless the sentence turns
("but", "instead"); a heading answered with a bare "no" ("Negotiation: no, ...") rejects it.

A long answer (over `max_chars`, config, default 3,000) is judged by the plan it commits to
(rubric D9): graders.planpart picks its committing paragraphs - "I will", "we'll", "every
Friday", "week two", "my focus this month is", "in one line" - up to `max_chars` and blanks
the diagnosis around them (offsets kept); an answer without paragraphs or without a committing
sentence is read from its start. The rest of a long answer (up to 20,000 characters) is still
read for explicit takeover phrases; a takeover in a list of refusals ("I will not meet them
myself, use my own network, or call the heads") is declined with its list. Text addressed to
the grader ("ignore the rubric", "give full marks"; a one-word scorer only in its own form -
"examiner", not "examination"; or by shape: a scorer addressed - "dear
evaluator", "AI", "automated reviewer", "whoever is marking" - with a scoring word, or a top
score asked for outright - "please award the maximum", "rate this 2/2") scores 0 and goes to
review. Confidence is 1 minus the penalties of named review signals
(`CoachingPlanGrader.review_signals`): a takeover without a clearly named focus, two foci, thin
evidence (capped), a score near the 0.40/0.80 band edges, a focus read from paraphrases alone,
negation of the focus, typo-tolerant matches, a very short or truncated answer, a plan or a
few sentences naming no recognisable task (a metaphor the lexicon cannot read), a focus read
from the seller's data, a plan one criterion short of full marks because only the seller's data
went unrecognised. Below
`review_threshold` (config, default `REVIEW_THRESHOLD` = 0.6, chosen on the dev split with
bench/grader_review_calibration.py) the answer goes to the instructor."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from graders.base import BoundStep, ResponseError
from graders.common import (
    build_result,
    float_setting,
    focus_reading,
    status_for,
    str_list_setting,
    strength_reading,
    task_label,
)
from graders.lexicon import (
    ACTIONS,
    ACTIVITY_STEMS,
    AGENT_SKIP,
    AMBIGUOUS_SYNONYMS,
    BE_WORDS,
    CADENCE_STEMS,
    CLAUSE_WORDS,
    COMPARATIVES,
    CONCEPT_DISTANCE,
    CONCEPT_PAIRS,
    CONCEPT_PHRASES,
    CONTACT_STEMS,
    CONTRAST_NEGATORS,
    COURSE_WORDS,
    CUSTOMER_ROLES,
    FIRST_PERSON,
    FOCUS_MARKERS,
    GENERIC_PHRASES,
    GRADER_PHRASES,
    MARKS_HOSTS,
    NEGATORS,
    NOT_ISSUE_WORDS,
    OBSERVER_WORDS,
    PRAISE_WORDS,
    SCORE_NOUNS,
    SCORE_OBJECTS,
    SCORE_VERBS,
    SCORER_MODIFIERS,
    SCORER_NOUNS,
    SCORER_WORDS,
    SECONDARY_MARKERS,
    SEND_WORDS,
    STRONG_SCORE_OBJECTS,
    TAKEOVER_PHRASES,
    TASK_PHRASES,
    THIRD_PERSON,
    TOGETHER_STEMS,
    UNKNOWN_SCORER,
    WEAK_PHRASES,
)
from graders.planpart import plan_part
from graders.result import CriterionResult, Evidence, StepResult
from graders.text import (
    PUNCT,
    STOPWORDS,
    PhraseMatch,
    PhraseMatcher,
    PhraseSet,
    Token,
    phrase_stems,
    proper_names,
    tokenize,
)
from scenarios.model import Scenario, Step, TaskCatalogue, TaskId

DEFAULT_MAX_CHARS = 3000
DEFAULT_POINTS = {"focus": 40.0, "situation": 21.0, "action": 21.0, "approach": 18.0}
LISTED_SHARE = 0.5
"""A task counts towards 'names most of the tasks' with at least this share of the top
attention; less is a passing mention."""
CO_FOCUS_RATIO = 0.75
"""Another task with at least this share of the focus's attention is an equal focus."""
PARTIAL_FOCUS_SHARE = 0.55

_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_GRADER_TAIL_MARKERS = (
    "grader", "rubric", "full marks", "ignore the rubric", "ignore the instructions",
    "ignore all", "ignore previous", "the evaluator", "top label", "full credit",
)
"""Read in the ungraded tail of a long answer; 'ignore the' alone is everyday English ("I'm not
going to ignore them")."""
_SCORER_ANY = SCORER_WORDS | SCORER_NOUNS | UNKNOWN_SCORER
_SCORE_FRACTION_RE = re.compile(r"\b\d{1,3}\s?/\s?\d{1,3}\b")


def scorer_directed(
    tokens: Sequence[Token],
    sentence: Sequence[int],
    text: str,
    present: frozenset[str] | None = None,
) -> list[Evidence]:
    """Sentences aimed at whoever scores the answer, recognised by shape: they address a scorer
    ('dear evaluator', 'AI:', 'automated reviewer') and ask for a score or invoke the rubric,
    or they ask for a top score outright ('please award the maximum', 'rate this 2/2')."""
    found: list[Evidence] = []
    n = len(tokens)
    if present is None:
        present = frozenset([t.stem for t in tokens] + [t.text for t in tokens])
    if present.isdisjoint(SCORE_VERBS) and present.isdisjoint(_SCORER_ANY):
        return found  # the common case: no scoring verb and no scorer named
    start = 0
    while start < n:
        end = start
        while end + 1 < n and sentence[end + 1] == sentence[start]:
            end += 1
        words = [t.text for t in tokens[start : end + 1]]
        stems = [t.stem for t in tokens[start : end + 1]]
        verbs = [k for k, st in enumerate(stems) if st in SCORE_VERBS]
        addressed = any(
            w in SCORER_WORDS
            or (w in SCORER_NOUNS and k > 0 and words[k - 1] in SCORER_MODIFIERS)
            or (w in UNKNOWN_SCORER and any(0 < v - k <= 3 for v in verbs))
            for k, w in enumerate(words)
        )
        objects = [k for k, w in enumerate(words) if w in SCORE_OBJECTS]
        last = len(words) - 1
        strong = [
            k for k, w in enumerate(words)
            if w in STRONG_SCORE_OBJECTS
            and (
                (w == "marks" and k > 0 and (words[k - 1] in MARKS_HOSTS
                                             or tokens[start + k - 1].kind == "number"))
                or (w != "marks" and (k == last or tokens[start + k + 1].kind == "punct"
                                      or words[k + 1] in SCORE_NOUNS))
            )
        ]
        fraction = bool(verbs) and _SCORE_FRACTION_RE.search(
            text, tokens[start].start, tokens[end].end
        ) is not None
        verb_at = set(verbs)
        asks = fraction or any(o - d in verb_at for o in strong for d in range(1, 6))
        if (addressed and (verbs or objects)) or asks:
            found.append(Evidence(text[tokens[start].start : tokens[end].end],
                                  tokens[start].start, tokens[end].end))
        start = end + 1
    return found


_EQUAL_WORDS = frozenset({"equal", "equally", "parallel", "equivalent", "evenly", "50/50"})
_EQUAL_HINTS = _EQUAL_WORDS | {"same", "important", "much", "urgent", "critical", "big"}
_SAME_WHAT = frozenset({"time", "weight", "priority", "attention", "importance", "effort",
                        "focus", "energy", "footing", "level"})


def declared_equal(
    tokens: Sequence[Token], clause: Sequence[int], present: frozenset[str] | None = None
) -> bool:
    """The answer says its subjects are equals: 'equal priority', 'equally important', 'in
    parallel', 'the same time/weight', 'as important as', 'as much time as' - unless negated
    in its clause ('not equally important') or a comparison with a number ('equal to 80%')."""
    if present is not None and present.isdisjoint(_EQUAL_HINTS):
        return False
    n = len(tokens)
    for k, token in enumerate(tokens):
        text = token.text
        hit = False
        if text in _EQUAL_WORDS:
            hit = not (k + 1 < n and tokens[k + 1].text == "to")
        elif text == "same" and k + 1 < n and tokens[k + 1].text in _SAME_WHAT:
            # "at the same time she redesigns the call" is when, not how much
            hit = not (k >= 2 and tokens[k - 2].text == "at" and tokens[k + 1].text == "time")
        elif text == "as" and k + 2 < n and tokens[k + 2].text == "as" and tokens[k + 1].text in {
            "important", "much", "urgent", "critical", "big"
        }:
            hit = True
        if hit and not any(
            tokens[j].text in NEGATORS and clause[j] == clause[k] for j in range(max(0, k - 4), k)
        ):
            return True
    return False


_MANAGER_WORDS = frozenset({"i", "me", "myself", "my"})
_GENERIC_VERBS = frozenset({"handle", "take", "do", "run", "fix", "sort", "handles"})
_REQUEST_VERBS = frozenset({"asked", "asks", "wants", "want", "wanted", "told", "expects",
                            "expected", "pushing", "pushes"})
_SELLING_VERBS = frozenset({"run", "call", "do", "take", "handle", "close", "lead", "join",
                            "tidy", "clean", "jump", "phone", "negotiate", "present", "demo",
                            "visit", "work", "fix", "sort", "meet"})


def _reported_request(tokens: Sequence[Token], m: PhraseMatch) -> bool | None:
    """For a takeover phrase inside a reported request ("he asked me to ..."): True when the
    manager then agrees, False when the manager declines or does not say; None when the
    phrase is not a reported request."""
    # The request frames the whole sentence: "The VP wants me to use my network and meet the
    # division heads myself. I won't." (the answer may come in the next sentence).
    k = m.first
    while k > 0 and tokens[k - 1].text not in _SENTENCE_ENDS and m.first - k < 40:
        k -= 1
    before = [t.text for t in tokens[k : m.first + 1]]
    if not any(
        before[j] in _REQUEST_VERBS and before[j + 1] == "me" for j in range(len(before) - 1)
    ):
        return None
    return _answer_to_request(tokens, m.last + 1)


def requesters(
    tokens: Sequence[Token], present: frozenset[str] | None = None
) -> frozenset[str]:
    """Who asks the manager to take over ('Dana wants me to', 'the VP asked me to'): dealing
    with them is managing upwards, not doing the seller's job."""
    if present is not None and present.isdisjoint(_REQUEST_VERBS):
        return frozenset()
    found: set[str] = set()
    for k in range(1, len(tokens) - 1):
        if tokens[k].text in _REQUEST_VERBS and tokens[k + 1].text == "me":
            found.update(t.text for t in tokens[max(0, k - 2) : k] if t.kind == "word")
    return frozenset(found - STOPWORDS)


_REFUSALS = frozenset({"not", "no", "decline", "refuse", "resist", "push", "never"})


def _answer_to_request(tokens: Sequence[Token], start: int) -> bool:
    """After a reported request: does the manager agree ('and I will', 'fine, I'll')?"""
    after = [t.text for t in tokens[start : start + 20]]
    for k, word in enumerate(after):
        if word == "i" and k + 1 < len(after) and after[k + 1] in {"will", "would", "am"}:
            rest = after[k + 2 : k + 7]
            # "I'll say no to that", "I won't", "I am going to say no to that"
            return _REFUSALS.isdisjoint(rest)
        if word in {"fine", "sure", "ok", "okay", "agreed"}:
            return True
        if word in {"no", "not", "instead"}:
            return False
    return False


_LIST_SUBJECTS = frozenset({"i", "we", "he", "she", "they", "you"})


def _declined(tokens: Sequence[Token], clause: Sequence[int], m: PhraseMatch) -> bool:
    """An odd number of negators between the clause start and a takeover phrase - or, for a
    list item with no subject of its own, in the clause that holds the list's subject: "I
    will not meet them myself, use my own network, or call the heads" declines all three."""
    here = clause[m.first]
    k = m.first - 1
    count = 0
    while k >= 0 and clause[k] == here:
        if tokens[k].text in NEGATORS:
            count += 1
        if tokens[k].text in _LIST_SUBJECTS:
            return count % 2 == 1  # the item has its own subject: its own clause decides
        k -= 1
    if count % 2 == 1:
        return True
    if k + 1 >= m.first or tokens[k + 1].text != ",":
        return False  # the clause does not continue a list (a clause opens on its comma)
    # Walk back through the earlier items of the list, within the sentence, to the subject.
    count = 0
    while k >= 0 and tokens[k].text not in _SENTENCE_ENDS:
        if tokens[k].text in NEGATORS:
            count += 1
        if tokens[k].text in _LIST_SUBJECTS:
            return count % 2 == 1
        if tokens[k].kind == "punct" and tokens[k].text != ",":
            return False  # a colon or a dash: not one list
        k -= 1
    return False


def _hypothetical(tokens: Sequence[Token], clause: Sequence[int], m: PhraseMatch) -> bool:
    """The takeover is the condition of an 'if' in its own clause ('if I run it, she learns
    nothing'): a consequence weighed, not the plan."""
    k = m.first - 1
    while k >= 0 and clause[k] == clause[m.first]:
        if tokens[k].text in {"if", "unless"}:
            return True
        k -= 1
    return False


def _manager_speaks(analysis: Analysis, m: PhraseMatch) -> bool:
    """The manager is the subject: first person in the phrase or in its sentence."""
    return analysis.sentence[m.first] in analysis.manager_sentences


def _work_before(analysis: Analysis, m: PhraseMatch) -> bool:
    """A selling verb or the seller's work shortly before 'myself' ('call the accounts
    myself')."""
    here = analysis.clause[m.first]
    for k in range(max(0, m.first - 8), m.first):
        text = analysis.tokens[k].text
        if analysis.clause[k] == here and (text in _SELLING_VERBS or text in _WORK_NOUNS):
            return True
    return False


def _refused_before(tokens: Sequence[Token], k: int) -> bool:
    """A negator in the few words before position k, in its sentence."""
    for j in range(k - 1, max(-1, k - 9), -1):
        if tokens[j].kind == "punct" and tokens[j].text in _SENTENCE_ENDS:
            return False
        if tokens[j].text in NEGATORS:
            return True
    return False


def _accepted_requests(analysis: Analysis) -> list[PhraseMatch]:
    """'Laura asked me to do the talking ... and I will': a request the manager takes on."""
    tokens = analysis.tokens
    found: list[PhraseMatch] = []
    for k in range(len(tokens) - 3):
        if tokens[k].text not in _REQUEST_VERBS or tokens[k + 1].text != "me":
            continue
        window = tokens[k + 2 : k + 6]
        verb = next((t for t in window if t.text in _SELLING_VERBS), None)
        if verb is None:
            continue
        if any(
            o.key == "takeover" and k <= o.first <= k + 8 for o in analysis.matches
        ):
            continue  # already judged as a takeover phrase
        if _refused_before(tokens, k):
            continue  # "I'm not going to do what he asked me to do": refused before it is told
        if _answer_to_request(tokens, k + 3):
            end = min(len(tokens) - 1, k + 6)
            found.append(
                PhraseMatch("takeover", "accepted request", k, end, tokens[k].start,
                            tokens[end].end, False)
            )
    return found


_SUBJECTS = frozenset({"he", "she", "they", "we", "you", "it"})
_ONCE_WORDS = frozenset({"first", "one", "once", "single"})
_EVENT_WORDS = frozenset({"call", "calls", "meeting", "visit", "demo", "conversation", "one",
                          "thing", "time", "session", "pitch", "presentation", "of"})
_PLURAL_EVENTS = frozenset({"calls", "meetings", "visits", "demos", "conversations",
                            "sessions", "pitches", "presentations"})
_MANY_WORDS = frozenset({"few", "couple", "several", "two", "three", "four", "five", "ten",
                         "calls", "meetings", "demos"})
_DURATION_WORDS = frozenset({"quarter", "month", "weeks", "year", "rest"})
_SELLER_LEADS = frozenset({
    "leads", "runs", "does", "takes", "sees", "watches", "can", "will", "calls", "handles",
    "observes", "lead", "run", "makes", "make", "hears", "listens", "follows", "owns", "tries",
    "repeats", "practises", "practices", "drives", "do", "take", "call", "handle",
})
_BARE_VERBS = frozenset({"call", "phone", "ring", "visit", "email", "contact", "meet", "handle",
                         "sort", "fix", "join", "close", "present", "demo", "pitch",
                         "negotiate", "run", "take", "do", "lead", "jump", "step"})
"""A takeover phrase ending in one of these may have the seller as its object ('I will call
her every Friday'); 'I will do the talking with her' already names the work."""


def agent_takeovers(analysis: Analysis, seller: frozenset[str]) -> list[PhraseMatch]:
    """Takeovers found by who does what: 'I' is the subject of a verb of contacting or selling
    whose object, later in the clause, is the customer's people or a person or account named
    in the scenario ('I'll have a quiet word with Kenji', 'I will phone their CFO'). Not when
    another subject takes over the clause ('I'll make sure she calls the CFO'), nor when the
    clause has the seller at work and the manager observing ('I call with her listening' is
    judged as a demonstration elsewhere)."""
    tokens = analysis.tokens
    clause = analysis.clause
    action_at = {k for m in analysis.matches if m.key == "action"
                 for k in range(m.first, m.last + 1)}
    entity_at: dict[int, PhraseMatch] = {}
    for m in analysis.matches:
        if m.key == "entity":
            entity_at.setdefault(m.first, m)
    found: list[PhraseMatch] = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        if token.text != "i":
            continue
        here = clause[i]
        verbs: list[int] = []
        for k in range(i + 1, min(n, i + 8)):
            if clause[k] != here:
                break
            if tokens[k].stem in CONTACT_STEMS:
                verbs.append(k)
                break
            if tokens[k].text not in AGENT_SKIP:
                break
        # Coordinated verbs share the subject: "I'll join her call and lead the pricing".
        for k in range(i + 2, min(n, i + 16)):
            if clause[k] != here or tokens[k].text in _SUBJECTS or tokens[k].text in seller:
                break
            if tokens[k].stem in CONTACT_STEMS and k not in verbs and (
                tokens[k - 1].text == "and"
                or (tokens[k - 1].text in AGENT_SKIP and tokens[k - 2].text == "and")
            ):
                verbs.append(k)
        for verb in verbs:
            hit = _agent_object(tokens, clause, verb, seller, entity_at, action_at)
            if hit >= 0:
                found.append(PhraseMatch("takeover", "agent", i, hit, tokens[i].start,
                                         tokens[hit].end, False))
                break
    return found


def _agent_object(
    tokens: Sequence[Token],
    clause: Sequence[int],
    verb: int,
    seller: frozenset[str],
    entity_at: dict[int, PhraseMatch],
    action_at: set[int],
) -> int:
    """The last token of the customer person or named entity the verb acts on, or -1."""
    here = clause[verb]
    n = len(tokens)
    for k in range(verb + 1, min(n, verb + 9)):
        if clause[k] != here:
            break
        text = tokens[k].text
        if text in _SUBJECTS or text in seller or text in OBSERVER_WORDS:
            break  # another subject or the seller: "I'll ask so she calls the CFO"
        if k == verb + 1 and text in {"her", "him", "them"}:
            break  # "I will call her every Friday" is the seller
        if text in {"my", "our"}:
            break  # "I'll talk to my director", "our regional heads": the manager's own side
        if tokens[k].stem in ACTIVITY_STEMS or k in action_at:
            break  # "I'd run a stakeholder-mapping session" runs coaching, not the deal
        entity = entity_at.get(k)
        if entity is not None or text in CUSTOMER_ROLES:
            return entity.last if entity is not None else k
    return -1


_SELLER_OBJECTS = frozenset({"her", "him", "them", "you", "each", "with", "back", "weekly"})
_WORK_NOUNS = frozenset(
    {"account", "accounts", "deal", "deals", "customer", "customers", "client", "clients",
     "lead", "leads", "prospect", "prospects", "partner", "partners", "opportunity",
     "opportunities", "pipeline", "crm", "sponsor", "buyer", "buyers", "cpo", "vp", "talking",
     "negotiation", "demo", "demos", "call", "calls", "meeting", "meetings", "renewal",
     "renewals", "discovery", "qbr", "qbrs", "expansion", "opps", "relationship",
     "relationships", "contract", "contracts", "close"}
)


NUMBER_WORDS: dict[str, float] = {
    word: float(value)
    for value, word in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
        "twenty".split(),
        start=10,
    )
} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0,
     "eighty": 80.0, "ninety": 90.0, "hundred": 100.0}
"""Numbers written out ('the first twenty') match the seller's data like digits do (small
numbers are everyday words and never count, as for digits)."""


def parse_number(text: str) -> float | None:
    """'31%' -> 31.0, '18,000' -> 18000.0, '0.5' -> 0.5; None when not a number."""
    raw = text.rstrip("%")
    if "," in raw:
        head, _, tail = raw.partition(",")
        raw = raw.replace(",", "") if len(tail) == 3 and tail.isdigit() else raw.replace(",", ".")
        if head == "":
            return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _Lexicon:
    """Everything the grader matches against for one step, compiled once."""

    matcher: PhraseMatcher
    numbers: frozenset[float]
    focus: TaskId
    strengths: frozenset[TaskId]
    critical: frozenset[TaskId]
    focus_numbers: frozenset[float] = frozenset()
    """The seller's numbers that belong to the focus task alone (its metrics and the notes
    tagged with it, not another task's): quoting them points at the focus."""
    focus_entities: frozenset[str] = frozenset()
    """Case-folded names (accounts, people) from notes tagged with the focus task alone."""
    other_numbers: frozenset[float] = frozenset()
    """The seller's numbers that belong to other tasks alone."""
    other_entities: frozenset[str] = frozenset()
    """Case-folded names from notes tagged with other tasks alone."""


GENERIC_SUBJECT = "generic_development"
"""A pseudo-task: leadership, mindset, motivation - the generic subjects a plan may centre on
instead of a selling task (rubric step 2: wrong focus). It competes for attention like a task
but is never the focus."""


def _plan_subject(step: BoundStep, task: TaskId) -> str:
    """What a plan centres on, in words: a task's label, or 'generic development'."""
    if task == GENERIC_SUBJECT:
        return "generic development (leadership, mindset, motivation) rather than a selling task"
    return task_label(step.catalogue, task)


def _task_entries(
    catalogue: TaskCatalogue, scenario: Scenario, step: Step
) -> list[tuple[str, str]]:
    """(task:<id>, phrase) for every way a learner may name each task."""
    entries: list[tuple[str, str]] = []
    for task in catalogue.tasks.values():
        key = f"task:{task.id}"
        for part in re.split(r"\s+and\s+|/|,", task.label):
            if part.strip():
                entries.append((key, part.strip()))
        entries.append((key, task.label))
        for synonym in task.synonyms:
            if synonym.casefold() not in AMBIGUOUS_SYNONYMS:
                entries.append((key, synonym))
    for table in (TASK_PHRASES, CONCEPT_PHRASES):
        for task_id, phrases in table.items():
            entries.extend(
                (f"task:{task_id}", p) for p in phrases if p not in AMBIGUOUS_SYNONYMS
            )
    for other in scenario.steps:
        for option in other.options:
            if option.task:
                entries.append((f"task:{option.task}", option.label))
    focus = scenario.derivation.focus
    entries.extend((f"task:{focus}", term) for term in str_list_setting(step, "focus_terms"))
    entries.extend((f"task:{GENERIC_SUBJECT}", p) for p in GENERIC_PHRASES)
    return entries


def _scenario_numbers(scenario: Scenario) -> frozenset[float]:
    """Numbers a learner may quote from this seller's data (metrics, facts, notes, exhibits)."""
    found: set[float] = set()
    for metric in scenario.profile.metrics:
        found.update((float(metric.value), float(metric.benchmark)))
    texts = [str(v) for v in scenario.profile.facts.values()]
    texts += [note.text for note in scenario.profile.notes]
    texts += [section.markdown for section in scenario.sections]
    for text in texts:
        for match in _NUMBER_RE.finditer(text):
            value = parse_number(match.group())
            if value is not None:
                found.add(value)
    # Small numbers (1 week, 2 calls) are everyday words, not evidence of reading the data.
    return frozenset(v for v in found if v >= 10)


def _task_material(
    scenario: Scenario, names: Sequence[str]
) -> tuple[frozenset[float], frozenset[str], frozenset[float], frozenset[str]]:
    """The seller's numbers and names that belong to the focus task alone, and those that
    belong to other tasks alone: the scenario's metrics and notes say which task each is
    evidence for, so a plan built on them shows which task it works on without naming it."""
    focus = scenario.derivation.focus
    strengths = frozenset(scenario.derivation.strengths)
    numbers: dict[bool, set[float]] = {True: set(), False: set()}
    texts: dict[bool, list[str]] = {True: [], False: []}
    for metric in scenario.profile.metrics:
        numbers[metric.task == focus].update((float(metric.value), float(metric.benchmark)))
    for note in scenario.profile.notes:
        tasks = set(note.tasks)
        # A note tagged with the focus and other tasks is evidence for the focus unless one
        # of them is the seller's strength (the tempting wrong focus, whose plans quote the
        # same note): a recorded call tagged discovery and qualification is the discovery
        # gap's own data. With the strength among its tags it says nothing either way.
        groups = {True} if focus in tasks and not tasks & strengths else {
            task == focus for task in tasks
        }
        for own in groups:
            texts[own].append(note.text.casefold())
            numbers[own].update(
                v for v in (parse_number(m.group()) for m in _NUMBER_RE.finditer(note.text))
                if v is not None
            )
    entities: dict[bool, set[str]] = {True: set(), False: set()}
    for name in names:
        folded = name.casefold()
        for own in (True, False):
            if any(folded in text for text in texts[own]):
                entities[own].add(folded)
    # Small numbers are everyday words (as for the situation criterion).
    focus_numbers = frozenset(v for v in numbers[True] - numbers[False] if v >= 10)
    other_numbers = frozenset(v for v in numbers[False] - numbers[True] if v >= 10)
    return (
        focus_numbers, frozenset(entities[True] - entities[False]),
        other_numbers, frozenset(entities[False] - entities[True]),
    )


def scenario_names(scenario: Scenario) -> tuple[str, ...]:
    """Proper names in the seller's data: notes, facts and exhibits (not the seller's name)."""
    texts = [note.text for note in scenario.profile.notes]
    texts += [str(v) for v in scenario.profile.facts.values()]
    texts += [section.markdown for section in scenario.sections]
    return proper_names(texts, exclude=scenario.profile.name.split())


# A lexicon's phrases in matching order (PhraseSet ranks). Task names and the generic action,
# takeover and grader phrases are the same for every variant of a scenario, so they are
# compiled once and shared; situation terms and the names in the scenario's text are
# compiled per variant.
_TASK_NAMES, _SITUATION_TERMS, _GENERIC_PHRASES, _SCENARIO_NAMES = range(4)


@dataclass(frozen=True)
class _SharedPhrases:
    """The variant-independent part of a step's lexicon."""

    phrases: PhraseSet
    task_stems: frozenset[str]
    """Every stem of a phrase naming a task: a scenario name made of these is no name."""


_SHARED: dict[tuple[object, ...], _SharedPhrases] = {}
_SHARED_SIZE = 64


def _shared_phrases(step: BoundStep) -> _SharedPhrases:
    """The shared part of a step's lexicon, compiled once per catalogue and step settings."""
    s, scenario = step.step, step.scenario
    options = tuple(
        (option.task, option.label)
        for other in scenario.steps
        for option in other.options
        if option.task
    )
    actions = tuple(str_list_setting(s, "actions"))
    takeovers = tuple(str_list_setting(s, "takeover_patterns"))
    key = (
        tuple((t.id, t.label, tuple(t.synonyms)) for t in step.catalogue.tasks.values()),
        options,
        scenario.derivation.focus,
        tuple(str_list_setting(s, "focus_terms")),
        actions,
        takeovers,
    )
    found = _SHARED.get(key)
    if found is None:
        tasks = _task_entries(step.catalogue, scenario, s)
        generic = [("action", a) for a in (*ACTIONS, *actions)]
        generic += [("takeover", t) for t in (*TAKEOVER_PHRASES, *takeovers)]
        generic += [("grader", g) for g in GRADER_PHRASES]
        found = _SharedPhrases(
            PhraseSet({_TASK_NAMES: tasks, _GENERIC_PHRASES: generic}),
            frozenset(st for _, phrase in tasks for st in phrase_stems(phrase)),
        )
        if len(_SHARED) >= _SHARED_SIZE:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[key] = found
    return found


def compile_lexicon(step: BoundStep) -> _Lexicon:
    """Build the phrase matcher and number set for a step."""
    s, scenario = step.step, step.scenario
    shared = _shared_phrases(step)
    situation = [("situation", t) for t in str_list_setting(s, "situation_terms")]
    # The people, customers, partners and places of this scenario's own data tie a plan to
    # this seller (rubric: a named account or colleague) and are who a manager who takes
    # over would call: every scenario gets them from its own text, no authoring needed.
    names = [
        n for n in scenario_names(scenario) if not set(phrase_stems(n)) <= shared.task_stems
    ]
    named = [("situation", n) for n in names]
    named += [("entity", n) for n in names]
    name = scenario.profile.name.strip()
    if name:
        named.append(("name", name))
        named += [("name", part) for part in name.split() if len(part) >= 3]
    own = PhraseSet({_SITUATION_TERMS: situation, _SCENARIO_NAMES: named})
    focus_numbers, focus_entities, other_numbers, other_entities = _task_material(scenario, names)
    return _Lexicon(
        matcher=PhraseMatcher(shared.phrases, own),
        numbers=_scenario_numbers(scenario),
        focus=scenario.derivation.focus,
        strengths=frozenset(scenario.derivation.strengths),
        critical=frozenset(t for t, w in scenario.situation.critical_tasks.items() if w > 0),
        focus_numbers=focus_numbers,
        focus_entities=focus_entities,
        other_numbers=other_numbers,
        other_entities=other_entities,
    )


_CACHE: dict[tuple[int, int, int], tuple[BoundStep, _Lexicon]] = {}
_CONTENT_CACHE: dict[str, _Lexicon] = {}
_CACHE_SIZE = 256


def _content_key(step: BoundStep) -> str:
    """What a compiled lexicon depends on, for scenario objects rebuilt per request (a variant
    built for each learner): the scenario's content hash, the step itself, the derivation and
    situation it reads, and the catalogue's tasks."""
    scenario = step.scenario
    parts = (
        scenario.content_hash,
        repr(step.step),
        scenario.derivation.focus,
        repr(scenario.derivation.strengths),
        repr(sorted(scenario.situation.critical_tasks.items())),
        scenario.profile.name,
        repr([(t.id, t.label, t.synonyms) for t in step.catalogue.tasks.values()]),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _lexicon_for(step: BoundStep) -> _Lexicon:
    """The compiled lexicon of a step: cached by object identity (while the objects are held
    in the cache) and by content, so a rebuilt copy of the same scenario compiles once."""
    key = (id(step.step), id(step.scenario), id(step.catalogue))
    hit = _CACHE.get(key)
    if hit is not None:
        cached_step, lexicon = hit
        if (
            cached_step.step is step.step
            and cached_step.scenario is step.scenario
            and cached_step.catalogue is step.catalogue
        ):
            return lexicon
    content = _content_key(step)
    found = _CONTENT_CACHE.get(content)
    if found is None:
        found = compile_lexicon(step)
        if len(_CONTENT_CACHE) >= _CACHE_SIZE:
            _CONTENT_CACHE.pop(next(iter(_CONTENT_CACHE)))
        _CONTENT_CACHE[content] = found
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (step, found)
    return found


@dataclass(frozen=True)
class _Mention:
    """One mention of a task and how the sentence around it treats it."""

    task: TaskId
    match: PhraseMatch
    negated: bool
    praised: bool
    weight: float
    clause: int


@dataclass(frozen=True)
class Analysis:
    """What the grader read in an answer (public so tests and benchmarks can inspect it)."""

    text: str
    truncated: bool
    tokens: Sequence[Token]
    matches: Sequence[PhraseMatch]
    mentions: Sequence[_Mention]
    clause: Sequence[int]
    sentence: Sequence[int]
    manager_sentences: frozenset[int]
    """Sentences where the manager speaks in the first person singular."""
    task_weights: dict[TaskId, float]
    """Attention per task: the strongest mention per clause, summed over clauses."""
    words: frozenset[str] = frozenset()
    """Every normalised word and stem of the graded text: lets rules skip answers that lack
    the words they need."""
    plan_part: bool = False
    """A long answer was read through its plan paragraphs (graders.planpart), not its opening."""


def _clauses(tokens: Sequence[Token]) -> list[int]:
    """A clause number per token: punctuation and words like 'but' start a new clause."""
    numbers: list[int] = []
    current = 0
    for token in tokens:
        if token.kind == "punct" or token.text in CLAUSE_WORDS:
            current += 1
        numbers.append(current)
    return numbers


_HEADING_MARKS = frozenset({":", "-", "–", "—"})
_SENTENCE_ENDS = frozenset({".", "!", "?", ";", "\n"})


def _sentences(tokens: Sequence[Token]) -> list[int]:
    """A sentence number per token: attention (focus claims, first person) is read per
    sentence, so every item of 'we work on A, B and C' shares the claim."""
    numbers: list[int] = []
    current = 0
    for token in tokens:
        if token.kind == "punct" and token.text in _SENTENCE_ENDS:
            current += 1
        numbers.append(current)
    return numbers


_POINTING_WORDS = frozenset({"it", "that", "this"})
_OWNERS = frozenset({"his", "hers", "her", "theirs", "ours", "mine", "yours"})
THIRD_PERSON_SUBJECTS = frozenset({"he", "she", "they", "customers", "customer", "partners"})
_ABOUT_HOSTS = BE_WORDS | {"all"}
_RATE_WORDS = frozenset({"a", "per", "each", "every"})


def _asides(tokens: Sequence[Token]) -> list[bool]:
    """Per token: inside parentheses (an aside, not the plan's subject)."""
    depth = 0
    inside: list[bool] = []
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth = max(0, depth - 1)
        inside.append(depth > 0)
    return inside


_REFUSING_AUX = frozenset({"will", "am", "are", "do", "shall", "would"})
_MISSING_WORDS = frozenset({"no", "without", "nothing"})
"""Negators that, inside a sentence and with no subject, say what is missing."""
_OPENING_REFUSALS = frozenset({"no", "nothing"})
"""Those of them that set a task aside when they open a sentence."""


_CONTRAST_PREPOSITIONS = frozenset({"on", "about", "for", "into", "at"})
_DUTY_WORDS = frozenset({"job", "role", "task", "responsibility", "problem", "remit", "area",
                         "concern", "call", "business"})


def _is_negated(
    tokens: Sequence[Token],
    clause: Sequence[int],
    m: PhraseMatch,
    seller: frozenset[str] = frozenset(),
) -> bool:
    """An odd number of negators shortly before the mention, or 'X is not the issue' after."""
    here = clause[m.first]
    count = 0
    first_negator = -1
    for k in range(max(0, m.first - 10), m.first):
        if (
            clause[k] == here and tokens[k].text in CONTRAST_NEGATORS and k >= m.first - 6
            and (tokens[k].text == "than" or tokens[k + 1].text in {"of", "than"})
        ):
            return True  # "rather than X", "instead of X" - not "instead, we work on X"
        if clause[k] == here and tokens[k].text in NEGATORS:
            # The scope runs to the end of the clause: "I don't want to spend the month on X".
            count += 1
            if first_negator < 0:
                first_negator = k
    if count == 0:
        # "I'm not going to make a twelve-year veteran spend his Fridays updating close dates":
        # the manager's refusal scopes over the whole clause, however long.
        for k in range(max(1, m.first - 24), m.first - 9):
            if (
                clause[k] == here and tokens[k].text == "not"
                and tokens[k - 1].text in _REFUSING_AUX
                and any(tokens[j].text in FIRST_PERSON for j in range(max(0, k - 4), k))
            ):
                count, first_negator = 1, k
                break
    # "The problem isn't (that) X": the manager rejects X whatever else is negated after.
    for k in range(max(0, m.first - 8), m.first - 2):
        if (
            clause[k] == here
            and tokens[k].text in NOT_ISSUE_WORDS
            and tokens[k + 1].text in BE_WORDS
            and tokens[k + 2].text == "not"
        ):
            return True
    # The clause word itself ("instead of X") starts the clause and counts.
    if count % 2 == 1:
        # "customers never saw the ROI" describes the gap; "we will not build a coverage
        # plan" rejects it. Only the manager's voice (or no subject) rejects.
        k = first_negator - 1
        if k >= 1 and tokens[k].text in BE_WORDS and tokens[k - 1].text in _POINTING_WORDS:
            return True  # "it's not her customer contacts": the manager sets X aside
        negator = tokens[first_negator].text
        if negator == "not" and first_negator + 1 < len(tokens) and tokens[
            first_negator + 1
        ].text in _CONTRAST_PREPOSITIONS:
            return True  # "Daniel needs to work on value, not on pricing": a contrast
        while k >= 0 and clause[k] == here:
            if tokens[k].text in THIRD_PERSON or tokens[k].text in seller:
                return False
            if tokens[k].text in FIRST_PERSON:
                return True
            k -= 1
        # With no subject, "not X" and a sentence opening "No X." or "Nothing about X." set X
        # aside; "no X", "nothing" and "without X" inside a sentence describe what is missing
        # ("Fernhill: no ROI", "every deal without a dated next step").
        opens = first_negator == 0 or tokens[first_negator - 1].text in _SENTENCE_ENDS
        return negator not in _MISSING_WORDS or (negator in _OPENING_REFUSALS and opens)
    n = len(tokens)
    # "value reviews are CS's job, not his - not going to load him with that": a later
    # negation in the manager's voice that points back at the mention ("that", "it") or
    # gives the task to someone else ("not his", "not her job") rejects it.
    end = m.last + 1
    while end < n and end <= m.last + 16 and not (
        tokens[end].kind == "punct" and tokens[end].text in _SENTENCE_ENDS
    ):
        end += 1
    for k in range(m.last + 1, end):
        if tokens[k].text not in NEGATORS:
            continue
        if _purpose_clause(tokens, clause, k):
            continue  # "I'll meet them before she retires, so we don't lose it": a reason
        # What the negator points at lies in its own clause: in "X (not the customer side -
        # that's her strength)" the "that" opens another clause.
        nxt = [t.text for j, t in enumerate(tokens[k + 1 : min(end, k + 6)], k + 1)
               if clause[j] == clause[k]]
        if tokens[k].text == "not" and nxt and nxt[0] in _OWNERS and (
            len(nxt) == 1 or nxt[1] in _DUTY_WORDS or nxt[1] in PUNCT
        ):
            return True  # "CS's job, not his" - but "X, not his lead flow" contrasts Y
        if tokens[k].text in {"not", "never"} and _POINTING_WORDS.intersection(nxt) and not any(
            tokens[j].text in THIRD_PERSON_SUBJECTS for j in range(max(m.last + 1, k - 3), k)
        ):
            return True
    # "negotiation - her strength - is not the topic": read to the end of the sentence.
    for k in range(m.last + 1, min(n - 1, m.last + 9)):
        if tokens[k].kind == "punct" and tokens[k].text in _SENTENCE_ENDS:
            break
        if tokens[k].text in BE_WORDS and tokens[k + 1].text == "not":
            for j in range(k + 2, min(n, k + 6)):
                if tokens[j].text in NOT_ISSUE_WORDS:
                    return True
    return False


_PURPOSE_WORDS = frozenset({"so", "because", "since", "while", "though", "although", "or",
                            "otherwise", "until", "before", "unless"})


def _purpose_clause(tokens: Sequence[Token], clause: Sequence[int], k: int) -> bool:
    """Token k sits in a clause that gives a reason or a condition ('so we don't lose it',
    'or it never closes'), which does not reject what came before."""
    j = k
    while j > 0 and clause[j - 1] == clause[k]:
        j -= 1
    return any(tokens[i].text in _PURPOSE_WORDS for i in range(max(0, j - 1), min(k, j + 2)))


_EVERYONE = frozenset({"anyone", "anybody", "everyone", "everybody", "all", "most", "any",
                       "peers", "colleagues"})


_PURPOSE_PREPOSITIONS = frozenset({"for", "into", "towards", "toward"})


def _is_praised(
    tokens: Sequence[Token], clause: Sequence[int], m: PhraseMatch, strength: bool = False
) -> bool:
    """The clause praises the task ('her negotiation is excellent', 'great at closing'); for
    the seller's strength also by comparison ('books more meetings than anyone')."""
    here = clause[m.first]
    lo, hi = max(0, m.first - 5), min(len(tokens), m.last + 6)
    # "negotiation - her strength - ...": naming it a strength praises it across dashes.
    for k in range(max(0, m.first - 4), min(len(tokens), m.last + 5)):
        if tokens[k].text in {"strength", "strengths"}:
            return True
    # "books more meetings than anyone", "better at it than the rest of the team": the seller
    # outdoes everyone at it - a comparison that praises.
    # Only for a task the data shows as a strength: "more stale deals than anyone" is no praise.
    for k in range(m.last + 1, min(len(tokens) - 1, m.last + 4)):
        if strength and clause[k] == here and tokens[k].text == "than" and tokens[
            k + 1
        ].text in _EVERYONE:
            return True
    # "use that trust for enablement": the praise is the means, the task after "for" the end.
    purpose = m.first > 0 and tokens[m.first - 1].text in _PURPOSE_PREPOSITIONS
    praise = be = negation = False
    for k in range(lo, hi):
        if clause[k] != here or (purpose and k < m.first):
            continue
        text = tokens[k].text
        if text in PRAISE_WORDS:
            praise = True
            if text in {"strength", "strengths", "already", "excel", "excels", "trust", "trusts"}:
                be = True
        elif text in BE_WORDS or text in {"at", "brilliant", "has", "have", "very"}:
            be = True
        elif text == "not":
            negation = True
    return praise and be and not negation


def _suppress_nested(mentions: list[_Mention]) -> list[_Mention]:
    """Drop a task mention that sits inside a longer mention of another task
    ('executive relationships' is not also 'relationships')."""
    kept: list[_Mention] = []
    for m in mentions:
        inside = any(
            o.task != m.task
            and o.match.first <= m.match.first
            and m.match.last <= o.match.last
            and (o.match.last - o.match.first) > (m.match.last - m.match.first)
            for o in mentions
        )
        if not inside:
            kept.append(m)
    return kept


_AFFIRMING_TURNS = frozenset({"but", "instead", "rather", "except", "though", "however"})
_HEADING_REFUSALS = frozenset({"no", "not", "never"})


def _rejection_reasons(tokens: Sequence[Token], mentions: list[_Mention]) -> list[_Mention]:
    """Mentions that only give the reason for rejecting a task do not name it (rubric D1).

    "Negotiation: no, ..." (a heading answered with a bare refusal) rejects the task; and in
    a sentence that rejects a task, a later mention of the same task explains the refusal
    ("Negotiation is not the issue - he's too good at it, every renewal is a price fight he
    wins"; "Not prospecting - the guy's a machine at booking meetings") unless the sentence
    turns ("but", "instead") before it."""
    n = len(tokens)
    out: list[_Mention] = []
    for m in mentions:
        k = m.match.last + 1
        if (
            not m.negated and k + 2 < n and tokens[k].text in _HEADING_MARKS
            and tokens[k + 1].text in _HEADING_REFUSALS and tokens[k + 2].kind == "punct"
        ):
            m = replace(m, negated=True, praised=False)
        out.append(m)
    # The sentences whose first mention of a task rejects it: (task, sentence).
    first: dict[tuple[TaskId, int], _Mention] = {}
    for m in out:
        key = (m.task, m.clause)
        if key not in first or m.match.first < first[key].match.first:
            first[key] = m
    result: list[_Mention] = []
    for m in out:
        if not m.negated and not m.praised:
            o = first[(m.task, m.clause)]
            if (
                o.negated and o.match.last < m.match.first
                and not any(
                    tokens[j].text in _AFFIRMING_TURNS
                    for j in range(o.match.last + 1, m.match.first)
                )
            ):
                m = replace(m, negated=True)
        result.append(m)
    return result


def _cadence_actions(
    tokens: Sequence[Token], clause: Sequence[int]
) -> list[PhraseMatch]:
    """Concrete actions by shape: a cadence or 'together' with a coaching activity in one
    clause ('every Friday she walks me through...', 'we build the first one together')."""
    found: list[PhraseMatch] = []
    start = 0
    n = len(tokens)
    while start < n:
        end = start
        while end + 1 < n and clause[end + 1] == clause[start]:
            end += 1
        stems = [t.stem for t in tokens[start : end + 1]]
        cadence = [k for k, st in enumerate(stems) if st in CADENCE_STEMS]
        together = [k for k, st in enumerate(stems) if st in TOGETHER_STEMS]
        activity = [k for k, st in enumerate(stems) if st in ACTIVITY_STEMS]
        anchors = cadence or together
        if anchors and activity:
            first = start + min(anchors[0], activity[0])
            last = start + max(anchors[-1], activity[-1])
            found.append(
                PhraseMatch(
                    "action", "cadence" if cadence else "together", first, last,
                    tokens[first].start, tokens[last].end, False,
                )
            )
        start = end + 1
    return found


def concept_matches(
    tokens: Sequence[Token],
    sentence: Sequence[int],
    numbers: frozenset[float],
    present: frozenset[str] | None = None,
) -> list[PhraseMatch]:
    """Tasks named by meaning (CONCEPT_PAIRS): two words, one from each half of a pair, close
    together in one sentence. '#count' stands for a number from the seller's data ('all
    280')."""
    found: list[PhraseMatch] = []
    n = len(tokens)
    stems = present if present is not None else frozenset(t.stem for t in tokens)
    for task, pairs in CONCEPT_PAIRS.items():
        for first, second in pairs:
            if stems.isdisjoint(first):
                continue
            taken = -1
            for i in range(n):
                if i <= taken or tokens[i].stem not in first:
                    continue
                lo, hi = max(0, i - CONCEPT_DISTANCE - 1), min(n, i + CONCEPT_DISTANCE + 2)
                for j in range(lo, hi):
                    if j == i or sentence[j] != sentence[i]:
                        continue
                    t = tokens[j]
                    if t.stem in second or (
                        t.kind == "number" and "#count" in second
                        and (parse_number(t.text) or 0) in numbers
                        and (parse_number(t.text) or 0) >= 50
                    ):
                        a, b = min(i, j), max(i, j)
                        found.append(PhraseMatch(f"task:{task}", CONCEPT_PHRASE, a, b,
                                                 tokens[a].start, tokens[b].end, False))
                        taken = b
                        break
    return found


CONCEPT_PHRASE = "concept"
"""The phrase of a concept-pair match: weak, and a paraphrase (never full marks alone)."""


def analyse(step: BoundStep, text: str, limit: int | None = None) -> Analysis:
    """Tokenise and match the graded part of an answer (the first `limit` characters, by
    default the step's max_chars)."""
    lexicon = _lexicon_for(step)
    considered: str | None = None
    if limit is None:
        limit = int(float_setting(step.step, "max_chars", DEFAULT_MAX_CHARS))
        if len(text) > limit:
            # A long answer is judged by the plan it commits to (rubric D9), not its opening.
            considered = plan_part(text[:TAKEOVER_SCAN_CHARS], limit)
    if considered is None:
        considered = text[:limit]
    tokens = tokenize(considered)
    matches = lexicon.matcher.find(tokens)
    clause = _clauses(tokens)
    matches += _cadence_actions(tokens, clause)
    sentence = _sentences(tokens)
    present = frozenset([t.text for t in tokens] + [t.stem for t in tokens])
    matches += concept_matches(tokens, sentence, lexicon.numbers, present)
    sentence_words: dict[int, set[str]] = {}
    for token, number in zip(tokens, sentence, strict=True):
        sentence_words.setdefault(number, set()).add(token.text)
    clause_words: dict[int, set[str]] = {}
    for token, number in zip(tokens, clause, strict=True):
        clause_words.setdefault(number, set()).add(token.text)
    # "the month is about X", "it's all about X" claim a focus ("talk about" does not).
    # "I don't think this is about X" rejects the claim.
    about_claims = {
        sentence[k]
        for k in range(1, len(tokens))
        if tokens[k].text == "about" and tokens[k - 1].text in _ABOUT_HOSTS
        and not any(
            tokens[j].text in NEGATORS and clause[j] == clause[k] for j in range(max(0, k - 5), k)
        )
    }
    # Sentences with a focus marker; "27 a month" is a rate, not "this month we work on".
    claim_sentences = {
        sentence[k]
        for k, t in enumerate(tokens)
        if t.text in FOCUS_MARKERS
        and not (t.text == "month" and k > 0 and tokens[k - 1].text in _RATE_WORDS)
    }
    aside = _asides(tokens) if "(" in considered else [False] * len(tokens)
    first_break = next((k for k, t in enumerate(tokens) if t.kind == "punct"), len(tokens))
    heading_mark = (
        first_break < len(tokens) and tokens[first_break].text in _HEADING_MARKS
        and first_break <= 6
    )
    # A short opening sentence ("Discovery.", "Qualify the inherited pipe.") is a title too.
    first_end = next(
        (k for k, t in enumerate(tokens) if t.kind == "punct" and t.text in _SENTENCE_ENDS),
        len(tokens),
    )
    if not heading_mark and 0 < first_end < len(tokens) and first_end <= 7 and sum(
        1 for t in tokens[:first_end] if t.kind == "word"
    ) <= 5:
        heading_mark, first_break = True, first_end
    possessors = {"her", "his"} | {
        p.casefold() for p in step.scenario.profile.name.split()[:1]
    }
    seller_words = frozenset(p.casefold() for p in step.scenario.profile.name.split())
    mentions: list[_Mention] = []
    for m in matches:
        if not m.key.startswith("task:"):
            continue
        negated = _is_negated(tokens, clause, m, seller_words)
        praised = not negated and _is_praised(
            tokens, clause, m, m.key[5:] in lexicon.strengths
        )
        same_clause = sentence_words[sentence[m.first]]
        # A clause where the manager speaks or names a focus claims the task; a clause that
        # only describes the seller gives it as context, which weighs less.
        # "Coverage: ..." or "Coverage and negotiation - ..." opening the answer is a claim.
        heading = heading_mark and m.last < first_break
        if heading or sentence[m.first] in claim_sentences or sentence[m.first] in about_claims:
            weight = 2.0
        elif not same_clause.isdisjoint(FIRST_PERSON):
            weight = 1.0
        else:
            weight = 0.5
        if not clause_words[clause[m.first]].isdisjoint(SECONDARY_MARKERS):
            # "Prospecting first, coverage maybe later": the remark is secondary in its own
            # clause, not across the sentence.
            weight *= 0.5
        if m.phrase.casefold() in WEAK_PHRASES:
            weight *= 0.5
        if aside[m.first]:
            weight *= 0.5  # "(DMU: economic buyer, procurement, ...)" is an aside
        task = m.key[5:]
        if task not in lexicon.critical and task not in lexicon.strengths and (
            m.first == m.last or m.phrase == CONCEPT_PHRASE
        ):
            # One everyday word for a task this job does not need ("a coverage problem on
            # EBRs" in a renewal book) is more likely its everyday sense; the seller's
            # strength is exempt: it is the tempting wrong focus.
            weight *= 0.5
        if (
            task in lexicon.strengths and m.first > 0
            and tokens[m.first - 1].text in possessors
            and sentence[m.first] not in claim_sentences
        ):
            # "Laura's discovery is her ticket": the seller's own strength, described as
            # what she already has (context or leverage, rubric D3), not claimed as the work.
            weight = min(weight, 0.5)
        mentions.append(_Mention(task, m, negated, praised, weight, sentence[m.first]))
    mentions = _rejection_reasons(tokens, _suppress_nested(mentions))
    weights: dict[TaskId, float] = {}
    per_clause: dict[tuple[TaskId, int], float] = {}
    for mention in mentions:
        if mention.negated or mention.praised:
            continue
        key = (mention.task, mention.clause)
        per_clause[key] = max(per_clause.get(key, 0.0), mention.weight)
    for (task, _), weight in per_clause.items():
        weights[task] = weights.get(task, 0.0) + weight
    manager_sentences = frozenset(
        sentence[k] for k, t in enumerate(tokens) if t.text in _MANAGER_WORDS
    )
    return Analysis(
        considered, len(text) > limit, tokens, matches, mentions, clause, sentence,
        manager_sentences, weights, present, len(considered) > limit,
    )


STRONG_RUNNER_UP = 0.6
"""Full marks need every other task below this share of the focus's attention."""
STRENGTH_SHARE = 0.7
"""The seller's strength planned with more than this share of the focus's attention is a
second subject (praise and leverage do not count: they carry no attention). Rubric D3 costs
the label only for a co-equal strength; a plan that gives the focus half again the strength's
attention uses the strength as a tool ("her stakeholder maps, pointed at our own company").
0.5 held 7 such full-marks plans on holdout4/6/7/8 at label 1 and no answer labelled 0 or 1
lies between 0.5 and 0.7 on any dev set."""
CLAIM_WEIGHT = 1.0
"""A mention this heavy is claimed (a focus sentence or the manager's voice), not a passing one."""


def weak_evidence(step: BoundStep, analysis: Analysis) -> tuple[str, ...]:
    """Why the evidence for the right focus is too thin for full marks (empty when it is
    strong): full marks (label 2) need an unambiguous claim of the focus, so a borderline
    reading is capped at the label-1 band and goes to review instead."""
    lexicon = _lexicon_for(step)
    focus = lexicon.focus
    weights = analysis.task_weights
    focus_weight = weights.get(focus, 0.0)
    affirmed = [
        m for m in analysis.mentions if m.task == focus and not m.negated and not m.praised
    ]
    reasons: list[str] = []
    weak = [m.match.phrase.casefold() in WEAK_PHRASES for m in affirmed]
    # A misspelt task name is solid when the plan claims it (a title, a focus sentence) and the
    # word is long enough (9+ letters) that a slip cannot turn another word into it - and
    # real English words are never read as typos (text.english_words).
    solid = [
        m for m, w in zip(affirmed, weak, strict=True)
        if not w and (not m.match.fuzzy or (
            m.weight >= 2.0
            and min(len(t.text) for t in analysis.tokens[m.match.first : m.match.last + 1]) >= 9
            and m.match.phrase.casefold() not in _PARAPHRASES
        ))
    ]
    sentences = {m.clause for m in affirmed}
    if affirmed and not solid:
        if all(weak):
            reasons.append("weak")  # only everyday words ("pipeline", "regional") name it
        elif len(sentences) < 2 and len({m.match.phrase for m in affirmed}) < 2:
            reasons.append("fuzzy")  # one typo-tolerant match is all there is
    if affirmed and max(m.weight for m in affirmed) < CLAIM_WEIGHT and len(sentences) < 2:
        reasons.append("passing")  # one description in passing, never claimed as the subject
    claimed = {
        m.task for m in analysis.mentions
        if not m.negated and not m.praised and m.weight >= CLAIM_WEIGHT
    }
    rivals = [t for t, w in weights.items() if t != focus and w >= STRONG_RUNNER_UP * focus_weight]
    if focus_weight > 0 and any(t in claimed for t in rivals):
        reasons.append("competing")  # another task is claimed with nearly as much attention
    if any(
        weights.get(t, 0.0) > STRENGTH_SHARE * focus_weight
        for t in lexicon.strengths
    ):
        reasons.append("strength")  # the seller's strength is planned as a subject too
    if "even" in analysis.words and doubles_down(analysis.tokens):
        reasons.append("deepens")  # "even earlier", "even deeper": more of the same (D12)
    if "weak" in reasons and set(reasons) <= DESCRIBED_REASONS and not _claimed_once(
        analysis, affirmed
    ):
        # Everyday words spread over the plan or woven into its actions ("we sort her 280
        # into three piles", "every box that hasn't moved, he decides") describe the focus in
        # the manager's own words (rubric D8): with no rival claimed, that is the subject.
        # An everyday word claimed once as the subject ("Pipeline: ...") stays thin.
        return ()
    return tuple(reasons)


DESCRIBED_REASONS = frozenset({"weak", "passing"})
"""Thin-evidence reasons that a focus described in everyday words across a plan overcomes."""


def _claimed_once(analysis: Analysis, affirmed: Sequence[_Mention]) -> bool:
    """The focus's everyday-word evidence is one claimed sentence: a heading or a focus
    sentence ("Pipeline: he needs more in it", "Regional involvement: ...") with nothing
    elsewhere in the plan to say what the word stands for."""
    sentences = {analysis.sentence[m.match.first] for m in affirmed}
    return len(sentences) < 2 and max(m.weight for m in affirmed) >= CLAIM_WEIGHT


FOCUS_DATA_WORDS = 20
"""A plan read from the seller's data needs this many words: a sentence or two quoting a
number is not a plan."""
NAMED_WEIGHT = 0.5
"""A task with this much attention (one plain description) is named: the plan is about it,
not about no task."""


def works_on_focus_material(step: BoundStep, analysis: Analysis) -> bool:
    """A coaching plan that names no task (nothing beyond a weak passing word) but works on
    the seller's numbers or accounts that belong to the focus task alone - its metrics, the
    notes tagged with it (and with no strength) - and on none that belong to another task:
    the scenario's data says which task the plan is about (rubric D8, the focus in the
    manager's own words). Any mention of the focus (a rejection included) or a concrete action
    missing rules it out."""
    lexicon = _lexicon_for(step)
    if any(m.task == lexicon.focus for m in analysis.mentions):
        return False
    if max(analysis.task_weights.values(), default=0.0) >= NAMED_WEIGHT:
        return False
    words = sum(1 for t in analysis.tokens if t.kind == "word")
    if words < FOCUS_DATA_WORDS:
        return False
    if not any(
        m.key == "action" and not _is_negated(analysis.tokens, analysis.clause, m)
        for m in analysis.matches
    ):
        return False
    own = other = 0
    for token in analysis.tokens:
        if token.kind != "number":
            continue
        value = parse_number(token.text)
        if value in lexicon.focus_numbers:
            own += 1
        elif value in lexicon.other_numbers:
            other += 1
    for m in analysis.matches:
        if m.key != "entity":
            continue
        name = m.phrase.casefold()
        if name in lexicon.focus_entities:
            own += 1
        elif name in lexicon.other_entities:
            other += 1
    return own > 0 and other == 0


def doubles_down(tokens: Sequence[Token]) -> bool:
    """'even earlier', 'even deeper', 'even more time on': the plan asks for more of what the
    seller already does, which may deepen the gap it names (rubric D12) - a human judges."""
    for k in range(len(tokens) - 1):
        if tokens[k].text != "even":
            continue
        for t in tokens[k + 1 : k + 3]:
            if t.text in COMPARATIVES:
                return True
    return False


LONG_WORDS = 400
TAKEOVER_SCAN_CHARS = 20_000
"""How much of a truncated answer is still read for a takeover (linear, bounded work)."""
REVIEW_THRESHOLD = 0.6
"""Default review threshold of this grader (a step's `review_threshold` overrides it), chosen
on the dev split with bench/grader_review_calibration.py."""
GRADER_TEXT_CONFIDENCE = 0.3
LABEL_ONE_SCORE = 0.40
_PARAPHRASES = frozenset(p.casefold() for ps in CONCEPT_PHRASES.values() for p in ps) | {
    CONCEPT_PHRASE
}


CAP_SCORE = 0.75
"""A full-marks answer on thin evidence is held here: inside the label-1 band (0.40-0.79)."""
LABEL_TWO_SCORE = 0.80
CAPPED_CONFIDENCE = 0.45
_THIN_EVIDENCE = {
    "weak": "only everyday words point to {focus} - say plainly that {focus} is the focus",
    "fuzzy": "{focus} is named only once, through a misspelling",
    "passing": "{focus} comes up only in passing - make it the subject of the plan",
    "competing": "another task gets almost as much of the plan as {focus} - commit to one",
    "strength": "the seller's strength gets almost as much of the plan as {focus}",
    "unnamed": "the plan never names {focus}; it is read from the accounts and numbers the "
    "plan works on",
    "deepens": "the plan asks for even more of something - make sure it closes the gap in "
    "{focus} rather than deepening it",
}


def _cap(
    step: BoundStep, criteria: list[CriterionResult], reasons: Sequence[str]
) -> list[CriterionResult]:
    """Hold a would-be full-marks answer at CAP_SCORE: the points above it come off the focus
    criterion first (that is where the doubt is), then off the others in order."""
    total = sum(c.max_points for c in criteria)
    earned = sum(c.points for c in criteria)
    if total <= 0 or earned < LABEL_TWO_SCORE * total:
        return criteria
    cut = earned - CAP_SCORE * total
    focus = task_label(step.catalogue, step.scenario.derivation.focus)
    why = "; ".join(_THIN_EVIDENCE[r].format(focus=focus) for r in reasons if r in _THIN_EVIDENCE)
    capped: list[CriterionResult] = []
    for c in criteria:
        take = min(cut, c.points)
        cut -= take
        if take <= 0:
            capped.append(c)
            continue
        points = c.points - take
        capped.append(replace(c, points=points, status=status_for(points, c.max_points)))
    return [
        replace(
            c,
            feedback=(
                f"The plan reads as {focus}, but the evidence is thin: {why}. An instructor "
                "will confirm it."
            ),
        )
        if c.id == "focus"
        else c
        for c in capped
    ]


def _evidence(text: str, matches: Sequence[PhraseMatch]) -> tuple[Evidence, ...]:
    """Spans of the matched phrases in the original response."""
    seen: set[tuple[int, int]] = set()
    found: list[Evidence] = []
    for m in matches:
        if (m.start, m.end) in seen:
            continue
        seen.add((m.start, m.end))
        found.append(Evidence(text=text[m.start : m.end], start=m.start, end=m.end))
    return tuple(found)


def _names_scorer(analysis: Analysis, m: PhraseMatch) -> bool:
    """A one-word grader phrase names the scorer only in that word's own form: 'examiner' and
    'assessor' are scorers, 'examination' and 'assessment' (same stems) are everyday words."""
    if m.first != m.last:
        return True
    word = analysis.tokens[m.first].text
    return word in SCORER_WORDS or word == m.phrase.casefold()


def _rejected(mentions: Sequence[_Mention], refused_work: frozenset[int]) -> bool:
    """The plan rules a task out at least as firmly as it names it: per sentence, the last
    mention of the task decides its polarity ("her coverage looks bad, but we will not build
    a coverage plan" rejects); the strongest mention gives the sentence's weight."""
    polarity: dict[int, bool] = {}
    weight: dict[int, float] = {}
    for m in sorted(mentions, key=lambda m: m.match.first):
        if m.praised or (m.negated and m.match.first in refused_work):
            continue  # "I don't want to call her C accounts myself" refuses a takeover
        polarity[m.clause] = m.negated
        weight[m.clause] = max(weight.get(m.clause, 0.0), m.weight)
    against = sum(w for c, w in weight.items() if polarity[c])
    for_it = sum(w for c, w in weight.items() if not polarity[c])
    return against > 0 and against >= for_it


def _course_discussed(tokens: Sequence[Token], clause: Sequence[int], i: int) -> bool:
    """The course at token i is ruled out or weighed rather than planned: a negator before it
    in its clause ('I won't send her'), or a gerund with no subject that the sentence then
    judges ('Sending her on a negotiation course would coach a strength')."""
    j = i - 1
    while j >= 0 and clause[j] == clause[i]:
        if tokens[j].text in NEGATORS:
            return True
        j -= 1
    if not tokens[i].text.endswith("ing"):
        return False
    before = [t.text for t in tokens[max(0, i - 3) : i]]
    if FIRST_PERSON.intersection(before) or "am" in before or "are" in before:
        return False  # "I'm sending her on a course" plans it
    for t in tokens[i + 1 : i + 30]:
        if t.kind == "punct" and t.text in _SENTENCE_ENDS:
            return False
        if t.text in {"would", "is", "was", "will", "might", "could"}:
            return True
    return False


class CoachingPlanGrader:
    """Scores a free-text coaching plan against the rubric described in the module docstring."""

    name = "coaching_plan"
    version = "1.6.0"

    def grade(self, step: BoundStep, response: object) -> StepResult:
        """Score a free-text answer; never raises on any string."""
        return self._grade(step, response)[0]

    def review_signals(self, step: BoundStep, response: object) -> dict[str, float]:
        """Why the grader doubts its score: each signal's confidence penalty (for calibration
        and for instructors reading a flagged answer)."""
        return self._grade(step, response)[1]

    def _grade(self, step: BoundStep, response: object) -> tuple[StepResult, dict[str, float]]:
        """The result and the review signals its confidence was derived from."""
        s = step.step
        if not isinstance(response, str):
            raise ResponseError(
                f"step {s.id!r}: the answer must be free text (a string), got "
                f"{type(response).__name__}"
            )
        lexicon = _lexicon_for(step)
        analysis = analyse(step, response)
        points = self._points(s)
        limit = int(float_setting(s, "max_chars", DEFAULT_MAX_CHARS))
        notes: list[str] = []
        signals: dict[str, float] = {}
        if analysis.truncated:
            notes.append(
                f"Your answer is long: the grader read the paragraphs that set out your plan "
                f"(up to {limit:,} characters); keep a coaching plan short."
                if analysis.plan_part
                else f"Only the first {limit:,} characters of your answer were graded; keep a "
                "coaching plan short."
            )
            signals["truncated"] = 0.3

        grader_hits = [
            m for m in analysis.matches if m.key == "grader" and _names_scorer(analysis, m)
        ]
        directed = scorer_directed(
            analysis.tokens, analysis.sentence, analysis.text, analysis.words
        )
        tail = response[limit:].casefold() if analysis.truncated else ""
        if grader_hits or directed or any(marker in tail for marker in _GRADER_TAIL_MARKERS):
            signals["addressed_to_grader"] = 1.0 - GRADER_TEXT_CONFIDENCE
            return (
                self._addressed_to_grader(step, points, analysis, grader_hits, directed, notes),
                signals,
            )

        words = [t for t in analysis.tokens if t.kind == "word"]
        if not words:
            notes.append("Your answer is empty: write what you will work on with the seller.")
        elif len(words) < 4:
            # One to three words: a task name alone is vague (1) or a keyword (0) - a human
            # decides. Longer short answers are rarely misjudged on dev.
            signals["short"] = 0.45
        elif len(words) < 8:
            signals["short"] = 0.1
        elif len(words) > LONG_WORDS and not analysis.truncated:
            signals["long"] = 0.2  # long answers mix foci and asides: a human reads them

        focus_result, focus_ok, focus_signals = self._focus(
            step, lexicon, analysis, points, words
        )
        signals.update(focus_signals)
        situation_result, situation_conf = self._situation(
            step, lexicon, analysis, points, focus_ok
        )
        if situation_conf:
            signals["fuzzy_situation"] = -situation_conf
        approach_result, approach_conf, coaching, took_over = self._approach(
            step, lexicon, analysis, points, focus_ok
        )
        if analysis.truncated and coaching and focus_ok > 0:
            # A takeover past the graded part still makes the plan a takeover (rubric D11):
            # read the rest (bounded) for the approach alone before awarding its points.
            # Only explicit takeover phrases count there: a bare "myself" in a long
            # reflection ("my instinct is to pick up the phone myself") is too weak unread.
            whole = analyse(step, response, TAKEOVER_SCAN_CHARS)
            whole = replace(whole, matches=[
                m for m in whole.matches if not (m.key == "takeover" and m.phrase == "myself")
            ])
            approach_result, approach_conf, coaching, took_over = self._approach(
                step, lexicon, whole, points, focus_ok
            )
        if (
            focus_ok <= 0 and coaching and not took_over
            and works_on_focus_material(step, analysis)
        ):
            # No task named, but a coaching plan built on the focus task's own accounts and
            # numbers (rubric D8: the focus said in the manager's own words): the focus is
            # read from the seller's data, never enough for full marks - held at the label-1
            # band and sent to review.
            focus_ok = 1.0
            _, max_points, fb_met, _ = points["focus"]
            focus_result = replace(
                focus_result, status="met", points=max_points,
                feedback=fb_met or "You coach the right focus.",
            )
            situation_result, situation_conf = self._situation(
                step, lexicon, analysis, points, focus_ok
            )
            approach_result, approach_conf, coaching, took_over = self._approach(
                step, lexicon, analysis, points, focus_ok
            )
            signals["focus_from_data"] = 0.15
            unnamed = True
        else:
            unnamed = False
        if approach_conf:
            signals["takeover_judgement"] = -approach_conf
        if took_over and focus_ok < 1.0:
            # Takeover plans rarely name the task the manager takes over; whether the focus
            # was right is the label-0/1 question, and the matcher sees little of it.
            signals["takeover_focus"] = 0.45
        action_result, action_matches = self._action(step, analysis, points, focus_ok, coaching)
        if action_matches and not coaching:
            signals["action_not_coaching"] = 0.05
        capped = False
        if focus_ok >= 1.0:
            reasons = ("unnamed",) if unnamed else weak_evidence(step, analysis)
            if reasons:
                focus_result, situation_result, action_result, approach_result = _cap(
                    step, [focus_result, situation_result, action_result, approach_result],
                    reasons,
                )
                capped = focus_result.status != "met"
        criteria = [focus_result, situation_result, action_result, approach_result]
        if capped:
            signals["capped"] = 1.0 - CAPPED_CONFIDENCE
        fuzzy_used = sum(1 for m in analysis.matches if m.fuzzy and m.key != "grader")
        if fuzzy_used:
            signals["fuzzy"] = min(0.3, 0.1 * fuzzy_used)
        total = sum(c.max_points for c in criteria)
        score = sum(c.points for c in criteria) / total if total > 0 else 0.0
        if analysis.truncated and score >= LABEL_TWO_SCORE:
            # Full marks on an answer only partly read: the plan it commits to may lie in the
            # ungraded part (rubric D9), so an instructor confirms.
            signals["truncated"] = 0.45
        if (
            CAP_SCORE <= score < LABEL_TWO_SCORE and not capped
            and [c.id for c in criteria if c.status != "met"] == ["situation"]
        ):
            # Right focus, a concrete coaching action, only the seller's data unrecognised:
            # the situation matcher (terms, numbers, names) is the narrowest, and whether the
            # plan is specific to this seller decides label 1 or 2 - a human reads it.
            signals["situation_edge"] = 0.25
        margin = min(abs(score - LABEL_ONE_SCORE), abs(score - LABEL_TWO_SCORE))
        if score > 0 and margin < 0.05:
            signals["margin"] = 0.2  # a criterion more or less changes the label
        elif score > 0 and margin < 0.1:
            signals["margin"] = 0.1
        confidence = 1.0 - sum(signals.values())
        # Most important first: the focus, then what the approach got wrong, then the rest;
        # when the focus is wrong, the "only counts with the right focus" notes add nothing.
        ordered = [focus_result, approach_result, situation_result, action_result]
        feedback = [c.feedback for c in ordered if c.status != "met"]
        if focus_ok <= 0:
            feedback = [focus_result.feedback] + (
                [approach_result.feedback] if not coaching else []
            )
        feedback += [c.feedback for c in ordered if c.status == "met"]
        feedback = notes + feedback + [focus_reading(step), s.feedback]
        result = build_result(
            step, self.name, self.version, criteria, feedback, confidence, force_review=capped,
            default_threshold=REVIEW_THRESHOLD,
        )
        return result, signals

    @staticmethod
    def _points(step: Step) -> dict[str, tuple[str, float, str, str]]:
        """Per criterion id: (label, points, feedback_met, feedback_missed), authored or default."""
        labels = {
            "focus": "Names and commits to the right coaching focus",
            "situation": "Ties the plan to this seller's situation and data",
            "action": "A concrete coaching action done with the seller",
            "approach": "Coaches rather than takes over; no generic course, not the strength",
        }
        authored = {c.id: c for c in step.criteria}
        result: dict[str, tuple[str, float, str, str]] = {}
        for cid, default in DEFAULT_POINTS.items():
            c = authored.get(cid)
            if c is not None:
                result[cid] = (c.label, float(c.points), c.feedback_met, c.feedback_missed)
            else:
                result[cid] = (labels[cid], default, "", "")
        return result

    def _addressed_to_grader(
        self,
        step: BoundStep,
        points: dict[str, tuple[str, float, str, str]],
        analysis: Analysis,
        hits: Sequence[PhraseMatch],
        directed: Sequence[Evidence],
        notes: list[str],
    ) -> StepResult:
        """Zero on every criterion, flagged for review."""
        message = (
            "Your answer contains text addressed to the grader; that earns nothing, and an "
            "instructor will review it."
        )
        criteria = [
            CriterionResult(
                id=cid,
                label=label,
                status="missed",
                points=0.0,
                max_points=max_points,
                evidence=(_evidence(analysis.text, hits) + tuple(directed))
                if cid == "focus"
                else (),
                feedback=message if cid == "focus" else "",
            )
            for cid, (label, max_points, _, _) in points.items()
        ]
        return build_result(
            step,
            self.name,
            self.version,
            criteria,
            [message, *notes, focus_reading(step), step.step.feedback],
            confidence=GRADER_TEXT_CONFIDENCE,
            force_review=True,
        )

    def _focus(
        self,
        step: BoundStep,
        lexicon: _Lexicon,
        analysis: Analysis,
        points: dict[str, tuple[str, float, str, str]],
        words: Sequence[Token],
    ) -> tuple[CriterionResult, float, dict[str, float]]:
        """The focus criterion, the share of focus credit earned, and review signals."""
        label, max_points, fb_met, fb_missed = points["focus"]
        focus = lexicon.focus
        focus_label = task_label(step.catalogue, focus)
        weights = analysis.task_weights
        named = [t for t, w in weights.items() if w > 0]
        focus_mentions = [m for m in analysis.mentions if m.task == focus]
        affirmed = [m for m in focus_mentions if not m.negated and not m.praised]
        negated = [m for m in focus_mentions if m.negated]
        top = max(weights.values(), default=0.0)
        focus_weight = weights.get(focus, 0.0)
        others = sorted((w for t, w in weights.items() if t != focus), reverse=True)
        runner_up = others[0] if others else 0.0
        function_share = (
            sum(1 for t in words if t.text in STOPWORDS) / len(words) if words else 0.0
        )
        # A list names its tasks with comparable attention; a task mentioned once in passing
        # beside a claimed focus ("weekly deal review", "their outreach") is context.
        listed = [t for t in named if weights[t] >= LISTED_SHARE * top]
        critical_named = [t for t in listed if t in lexicon.critical]
        many = max(3, math.ceil(0.6 * max(1, len(lexicon.critical))))
        dominant = top > 0 and runner_up <= 0.6 * top
        covered: set[int] = set()
        for m in analysis.matches:
            covered.update(range(m.first, m.last + 1))
        keyword_share = (
            sum(1 for k in covered if analysis.tokens[k].kind == "word") / len(words)
            if words
            else 0.0
        )
        distinct_share = len({t.text for t in words}) / len(words) if words else 1.0
        listy = (
            len(words) >= 5 and keyword_share >= 0.6 and function_share < 0.15 and len(listed) >= 2
        ) or (len(words) >= 12 and distinct_share < 0.3) or (  # the same few words over and over
            # Fragments without grammar naming four or more tasks: a list, whatever its title.
            len(words) >= 5 and keyword_share >= 0.5 and function_share < 0.1
            and len(named) >= 4
        )
        uncommitted = listy or (
            not dominant and (len(critical_named) >= many or len(listed) >= 4)
        )
        # "Both equal priority", "with equal time", "the same weight": the plan itself says
        # two tasks are equal foci (rubric D2), whatever their attention in words. With two
        # tasks that is at most partial focus credit; with more it is a list.
        equal = declared_equal(analysis.tokens, analysis.clause, analysis.words)
        rivals = [t for t in named if t != focus and weights[t] >= 0.1 * top]
        signals: dict[str, float] = {}
        share = 0.0
        takeover_clauses = {analysis.clause[m.first] for m in analysis.matches
                            if m.key == "takeover"}
        refused_work = frozenset(
            k for k, c in enumerate(analysis.clause) if c in takeover_clauses
        ) if takeover_clauses else frozenset()
        if affirmed and _rejected(focus_mentions, refused_work):
            # "Her coverage looks bad, but we will not build a coverage plan": the plan rules
            # out the focus at least as firmly as it names it (rubric D1) - that is no focus.
            affirmed = []
        if affirmed and equal and rivals and len(rivals) <= 2 and focus_weight >= 0.25 * top:
            share = PARTIAL_FOCUS_SHARE
            signals["co_focus"] = 0.45
            verdict = (
                f"You give {focus_label} and another task equal weight; commit to "
                f"{focus_label} as the one focus this month."
            )
        elif not affirmed:
            if negated:
                verdict = (
                    f"Your plan rules out {focus_label} - but that is where this seller's "
                    "largest gap is."
                )
            else:
                verdict = f"Your plan does not name the focus this seller needs: {focus_label}."
            other = max(weights, key=lambda t: weights[t]) if weights else None
            if other is not None:
                verdict += f" It centres on {_plan_subject(step, other)} instead."
        elif uncommitted:
            verdict = (
                "Your answer names most of the tasks (or lists keywords) instead of committing "
                f"to one focus: coaching needs one - {focus_label}."
            )
        elif focus_weight >= top and runner_up < CO_FOCUS_RATIO * focus_weight:
            share = 1.0
            verdict = f"You coach the right focus: {focus_label}."
        elif focus_weight >= CO_FOCUS_RATIO * top:
            share = PARTIAL_FOCUS_SHARE
            signals["co_focus"] = 0.45  # which focus is primary is a judgement
            verdict = (
                f"You name {focus_label}, but give another task as much weight; commit to "
                f"{focus_label} as the one focus this month."
            )
        else:
            other = max(weights, key=lambda t: weights[t])
            verdict = (
                f"Your plan centres on {_plan_subject(step, other)}, not on "
                f"{focus_label}, where the largest gap is."
            )
        plan_like = any(m.key in ("action", "situation") for m in analysis.matches)
        if share == 0 and not weights and (plan_like or len(words) >= 8):
            # A plan, or a few sentences, about no task we recognise: off-topic, or a metaphor
            # or wording the lexicon lacks (rubric D8). The score stays 0, and a human reads it.
            signals["no_task"] = 0.45
        elif share == 0 and affirmed and not uncommitted and focus_weight >= 0.5 * top:
            signals["edged_out"] = 0.25  # the focus is there but another task edges it out
        if affirmed and negated:
            signals["negation"] = 0.15  # the plan both rejects and names the focus
        if share == 1.0 and any(t in lexicon.strengths for t in named):
            signals["strength_named"] = 0.1
        if share > 0 and all(m.match.fuzzy for m in affirmed):
            signals["fuzzy_focus"] = 0.15
        if share > 0 and all(
            m.match.phrase.casefold() in _PARAPHRASES or m.match.phrase.casefold() in WEAK_PHRASES
            for m in affirmed
        ):
            signals["paraphrase_only"] = 0.25  # the focus is read from paraphrases alone
        feedback = (fb_met or verdict) if share == 1.0 else (fb_missed or verdict)
        if fb_missed and share < 1.0:
            feedback = f"{verdict} {fb_missed}"
        result = CriterionResult(
            id="focus",
            label=label,
            status="met" if share == 1.0 else ("partial" if share > 0 else "missed"),
            points=max_points * share,
            max_points=max_points,
            evidence=_evidence(analysis.text, [m.match for m in (affirmed or focus_mentions)]),
            feedback=feedback,
        )
        return result, share, signals

    def _situation(
        self,
        step: BoundStep,
        lexicon: _Lexicon,
        analysis: Analysis,
        points: dict[str, tuple[str, float, str, str]],
        focus_share: float,
    ) -> tuple[CriterionResult, float]:
        """The situation criterion: rubric terms, the seller's numbers, (weakly) the name."""
        label, max_points, fb_met, fb_missed = points["situation"]
        terms = [m for m in analysis.matches if m.key == "situation"]
        names = [m for m in analysis.matches if m.key == "name"]
        numbers: list[Evidence] = []
        for token in analysis.tokens:
            if token.kind == "number" or token.text in NUMBER_WORDS:
                value = (
                    parse_number(token.text) if token.kind == "number"
                    else NUMBER_WORDS[token.text]
                )
                if value is not None and value in lexicon.numbers:
                    numbers.append(
                        Evidence(analysis.text[token.start : token.end], token.start, token.end)
                    )
        evidence = _evidence(analysis.text, terms) + tuple(numbers)
        name = step.scenario.profile.name
        first = name.split()[0] if name.strip() else "the seller"
        if focus_share <= 0:
            share = 0.0
            verdict = "Tying a plan to the data only counts once the plan coaches the right focus."
        elif terms or numbers:
            share = 1.0 if focus_share >= 1.0 else 0.5
            verdict = f"You tie the plan to {first}'s own situation and numbers."
        elif names:
            share = 0.0
            evidence = _evidence(analysis.text, names)
            verdict = (
                f"Beyond {first}'s name, nothing ties the plan to this seller: use the data "
                "(her numbers, accounts, what the notes show)."
            )
        else:
            share = 0.0
            verdict = (
                f"Nothing ties the plan to {first}'s situation: quote the numbers or the "
                "accounts that show the gap."
            )
        if fb_missed and share < 1.0:
            verdict = f"{verdict} {fb_missed}"
        elif fb_met and share == 1.0:
            verdict = fb_met
        confidence = -0.1 if share == 1.0 and all(m.fuzzy for m in terms) and not numbers else 0.0
        return (
            CriterionResult(
                id="situation",
                label=label,
                status="met" if share == 1.0 else ("partial" if share > 0 else "missed"),
                points=max_points * share,
                max_points=max_points,
                evidence=evidence,
                feedback=verdict,
            ),
            confidence,
        )

    def _action(
        self,
        step: BoundStep,
        analysis: Analysis,
        points: dict[str, tuple[str, float, str, str]],
        focus_share: float,
        coaching: bool,
    ) -> tuple[CriterionResult, list[PhraseMatch]]:
        """The action criterion: a concrete coaching action, not negated; it counts only for
        the right focus and when the manager coaches (no takeover, no generic course)."""
        label, max_points, fb_met, fb_missed = points["action"]
        actions = [
            m
            for m in analysis.matches
            if m.key == "action" and not _is_negated(analysis.tokens, analysis.clause, m)
        ]
        if focus_share <= 0:
            share = 0.0
            verdict = "A coaching action only counts when it works on the right focus."
        elif not coaching:
            share = 0.0
            verdict = (
                "Actions count as coaching only when the seller does the work and you coach; "
                "here you take the work over or hand it to a course."
            )
        elif actions:
            share = 1.0 if focus_share >= 1.0 else 0.5
            verdict = "Your plan has a concrete coaching action done with the seller."
        else:
            share = 0.0
            verdict = (
                "Name a concrete coaching action you will do with the seller (a working session "
                "to build the plan together, a weekly review, a role-play, a ride-along)."
            )
        if fb_missed and share < 1.0:
            verdict = f"{verdict} {fb_missed}"
        elif fb_met and share == 1.0:
            verdict = fb_met
        return (
            CriterionResult(
                id="action",
                label=label,
                status="met" if share == 1.0 else ("partial" if share > 0 else "missed"),
                points=max_points * share,
                max_points=max_points,
                evidence=_evidence(analysis.text, actions),
                feedback=verdict,
            ),
            actions,
        )

    def _approach(
        self,
        step: BoundStep,
        lexicon: _Lexicon,
        analysis: Analysis,
        points: dict[str, tuple[str, float, str, str]],
        focus_share: float,
    ) -> tuple[CriterionResult, float, bool, bool]:
        """The anti-pattern criterion (takeover, generic course, the strength as focus), its
        confidence change, whether the manager coaches (no anti-pattern found) and whether
        the manager takes the work over. Like the
        other criteria it earns points only in a plan with the right focus."""
        label, max_points, fb_met, fb_missed = points["approach"]
        tokens = analysis.tokens
        problems: list[str] = []
        evidence: list[Evidence] = []
        confidence = 0.0
        takeovers: list[PhraseMatch] = []
        seller = frozenset(p.casefold() for p in step.scenario.profile.name.split())
        phrase_takeovers = [m for m in analysis.matches if m.key == "takeover"]
        agents = [
            a for a in agent_takeovers(analysis, seller)
            if not any(p.first <= a.last and a.first <= p.last for p in phrase_takeovers)
        ]
        asking = requesters(tokens, analysis.words)
        for m in [*phrase_takeovers, *agents]:
            if m.key != "takeover" or _is_negated(tokens, analysis.clause, m):
                continue
            if _declined(tokens, analysis.clause, m):
                continue  # "I don't want to call her C accounts myself"
            if _hypothetical(tokens, analysis.clause, m):
                continue  # "if I set up those meetings myself, they'd be mine": weighed
            following = [t.text for t in tokens[m.last + 1 : m.last + 3]]
            if tokens[m.last].text in _BARE_VERBS and following and following[
                0
            ] in _SELLER_OBJECTS and not (
                len(following) > 1 and following[1] in _WORK_NOUNS
            ):
                continue  # "I will call her every Friday" is coaching, not a takeover
            if not _manager_speaks(analysis, m):
                continue  # "tidying his CRM for him would teach nothing" is not the plan
            if m.phrase == "myself" and not _work_before(analysis, m):
                continue  # "honest with myself" is not doing the seller's work
            if tokens[m.last].text in _GENERIC_VERBS and not self._work_object(analysis, m):
                continue  # "I'll handle Dana (the VP), not the deal" removes an obstacle
            request = _reported_request(tokens, m)
            if request is not None and not request:
                confidence -= 0.1
                continue  # "Dana wants me to run Northwind myself. I won't."
            if any(tokens[k].text in asking for k in range(m.first, m.last + 1)) and (
                m.phrase == "agent" or tokens[m.last].text in _GENERIC_VERBS
            ):
                continue  # "Dana wants me to run it; I'll handle Dana": managing upwards
            if self._bounded_demo(analysis, m):
                confidence -= 0.2
                continue
            takeovers.append(m)
        takeovers += _accepted_requests(analysis)
        if takeovers:
            problems.append(
                "You take over the seller's job - the skill stays with you, not with the seller. "
                "Prepare, observe and debrief instead."
            )
            evidence.extend(_evidence(analysis.text, takeovers))
        course = self._generic_course(analysis)
        if course is not None:
            problems.append(
                "Sending the seller to a generic course is not coaching: work on the gap with "
                "the seller, on the seller's own accounts."
            )
            evidence.append(course)
        weights = analysis.task_weights
        top = max(weights.values(), default=0.0)
        # The strength is an anti-pattern when it is the plan's main subject; as an equal
        # second focus it already costs focus credit.
        focus_weight = weights.get(lexicon.focus, 0.0)
        strengths = [
            t
            for t in lexicon.strengths
            if top > 0
            and weights.get(t, 0.0) >= top
            and focus_weight < CO_FOCUS_RATIO * weights.get(t, 0.0)
        ]
        for task in strengths:
            problems.append(strength_reading(step, task))
            evidence.extend(
                _evidence(
                    analysis.text,
                    [m.match for m in analysis.mentions if m.task == task and not m.negated],
                )
            )
        coaching = not problems
        ok = coaching and focus_share > 0
        if not coaching:
            verdict = " ".join(problems) + (f" {fb_missed}" if fb_missed else "")
        elif not ok:
            verdict = "Coaching well only counts once the plan works on the right focus."
        else:
            verdict = fb_met or (
                "You coach rather than do the seller's job, and you leave the strength alone."
            )
        return (
            CriterionResult(
                id="approach",
                label=label,
                status="met" if ok else "missed",
                points=max_points if ok else 0.0,
                max_points=max_points,
                evidence=tuple(evidence),
                feedback=verdict,
            ),
            confidence,
            coaching,
            bool(takeovers),
        )

    @staticmethod
    def _work_object(analysis: Analysis, m: PhraseMatch) -> bool:
        """The words after a generic verb name the seller's work (accounts, the deal, it)."""
        after = analysis.tokens[m.last + 1 : m.last + 5]
        if any(t.text in _WORK_NOUNS or t.text in {"it", "them", "this", "that"} for t in after):
            return True
        asking = requesters(analysis.tokens, analysis.words)
        return any(
            o.key in ("situation", "name") and m.last < o.first <= m.last + 4
            and analysis.tokens[o.first].text not in asking
            for o in analysis.matches
        )

    @staticmethod
    def _bounded_demo(analysis: Analysis, m: PhraseMatch) -> bool:
        """'I'll lead the first call so he sees it, he leads the next ones': a demonstration."""
        tokens = analysis.tokens
        sentence = analysis.sentence
        here = sentence[m.first]
        # One occurrence, said in the takeover's sentence ("I'll do one thing myself: I'll
        # make the first call"), or right after it.
        own = [t.text for k, t in enumerate(tokens[m.first : m.last + 16], m.first)
               if sentence[k] <= here + 1]
        if not any(
            w == "once" or (w in _ONCE_WORDS and _EVENT_WORDS.intersection(own[j + 1 : j + 3])
                            and not _PLURAL_EVENTS.intersection(own[j + 1 : j + 3]))
            for j, w in enumerate(own)
        ):
            return False  # "his first calls" are all of his first calls, not one
        clause = analysis.clause
        scope = [t.text for k, t in enumerate(tokens[m.first : m.last + 14], m.first)
                 if clause[k] == clause[m.last] or k <= m.last]
        if _DURATION_WORDS.intersection(scope) or any(
            a == "next" and b in _MANY_WORDS for a, b in zip(scope, scope[1:], strict=False)
        ):
            # "I'll run Northwind myself this quarter", "for the next month", "his next few
            # calls": not one demonstration
            return False
        # ... and then the seller leads, or watches this one: "she makes the next ten",
        # "with her listening", "so he sees how it sounds".
        window = [t.text for t in tokens[m.first : m.last + 40]]
        return any(
            (window[k] in {"he", "she"} and (window[k + 1] in _SELLER_LEADS or (
                window[k + 1] in {"then", "also", "will"} and k + 2 < len(window)
                and window[k + 2] in _SELLER_LEADS)))
            or (window[k] in {"her", "him"} and window[k + 1] in OBSERVER_WORDS)
            for k in range(len(window) - 1)
        )

    @staticmethod
    def _generic_course(analysis: Analysis) -> Evidence | None:
        """'send her to a negotiation course', 'sign him up for training'."""
        tokens = analysis.tokens
        n = len(tokens)
        for i, token in enumerate(tokens):
            if token.text not in SEND_WORDS:
                continue
            window = tokens[i + 1 : min(n, i + 10)]
            texts = [t.text for t in window]
            if not texts or texts[0] not in {"her", "him", "them"}:
                continue
            if len(texts) > 1 and texts[1] in _WORK_NOUNS:
                continue
            if _course_discussed(tokens, analysis.clause, i):
                continue  # "I won't send her on a course", "sending her on a course would..."
            for t in window:
                if t.text in COURSE_WORDS:
                    return Evidence(
                        analysis.text[token.start : t.end], token.start, t.end
                    )
        return None
