"""Read-side aggregates for instructors and admins: dashboard rows, item analysis, grader
agreement, admin overviews and the CSV export. The heavy lifting is SQL (SQLAlchemy Core
aggregates), so a placement of thousands of learners never loads its attempts into Python.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lti_tool.models import (
    Attempt,
    Context,
    CriterionResultRow,
    GradeAudit,
    LearnerProgress,
    OptionChoiceRow,
    OutboxItem,
    PlatformRegistration,
    ResourceLink,
    StepResponse,
    StepResultRecord,
    User,
)

if TYPE_CHECKING:
    from scenarios.model import Scenario

DONE = ("graded", "needs_review", "overridden")
"""Statuses of an attempt that has a score."""
STATUS_LABEL = {"met": 2, "partial": 1, "missed": 0}
"""Criterion status -> the 0/1/2 label scale of graders.agreement."""
QWK_THRESHOLD = 0.70
SMD_THRESHOLD = 0.15
"""Usual acceptance thresholds for automated scoring (Williamson, Xi & Breyer 2012)."""


# --- writing the indexed rows (called when a result is stored) ---


def _choices(step: Any, value: Any) -> list[tuple[str, int]]:
    """(option id, position) pairs a response picked, in the grader's response shapes."""
    if step.grader == "single_choice" and isinstance(value, str):
        return [(value, 1)]
    if step.grader == "multi_select" and isinstance(value, list):
        return [(str(v), 1) for v in value]
    if step.grader == "ranking" and isinstance(value, list):
        return [(str(v), rank) for rank, v in enumerate(value, start=1)]
    if step.grader == "coaching_focus" and isinstance(value, dict) and value.get("task"):
        return [(str(value["task"]), 1)]
    return []


def index_result(session: Session, attempt: Attempt, scenario: Scenario) -> None:
    """Rewrite the attempt's criterion and option-choice rows from its stored results.

    The rows are plain index rows nothing else holds in the session: they go in as two
    multi-row INSERTs, not as ORM objects (a unit-of-work flush of a few dozen objects cost
    about a quarter of a submission's CPU)."""
    from sqlalchemy import delete, insert

    if attempt.id is None:
        session.flush()
    session.execute(delete(CriterionResultRow).where(CriterionResultRow.attempt_id == attempt.id))
    session.execute(delete(OptionChoiceRow).where(OptionChoiceRow.attempt_id == attempt.id))
    criteria: list[dict[str, Any]] = []
    for result in attempt.results:
        for criterion in result.criteria:
            criteria.append(dict(
                attempt_id=attempt.id, step_id=result.step_id,
                criterion_id=str(criterion.get("id", ""))[:255],
                label=str(criterion.get("label", ""))[:255],
                status=str(criterion.get("status", "missed")),
                points=float(criterion.get("points") or 0.0),
                max_points=float(criterion.get("max_points") or 0.0),
            ))
    choices: list[dict[str, Any]] = []
    answers = {response.step_id: response.value for response in attempt.responses}
    for step in scenario.steps:
        for option_id, position in _choices(step, answers.get(step.id)):
            if step.grader == "ranking":
                correct = position <= len(step.key) and step.key[position - 1] == option_id
            else:
                correct = option_id in step.key
            choices.append(dict(
                attempt_id=attempt.id, step_id=step.id, option_id=option_id[:255],
                position=position, correct=correct,
            ))
    if criteria:
        session.execute(insert(CriterionResultRow), criteria)
    if choices:
        session.execute(insert(OptionChoiceRow), choices)


# --- the placement dashboard ---


@dataclass(frozen=True)
class DashboardRow:
    """One learner on a placement: roster entry merged with their attempts."""

    subject: str
    name: str
    email: str
    status: str
    """Status of the latest attempt, or not_started."""
    score: float | None
    attempts: int
    seconds: float | None
    """Time spent: submitted minus started, summed over submitted attempts."""
    needs_review: bool
    grade_sync: str
    latest_attempt_id: int | None
    submitted_at: datetime | None
    in_roster: bool = True
    graded_attempt_id: int | None = None
    """The latest attempt with a score (the one whose grade the LMS gets)."""


@dataclass(frozen=True)
class DashboardQuery:
    """Sort, filter and page parameters (from GET, validated)."""

    sort: str = "name"
    descending: bool = False
    status: str = ""
    review_only: bool = False
    text: str = ""
    page: int = 1
    per_page: int = 50


SORT_KEYS = ("name", "status", "score", "attempts", "time", "review", "sync", "submitted")
STATUSES = ("not_started", "in_progress", "submitted", "graded", "needs_review", "overridden")


def dashboard_query(args: Mapping[str, str]) -> DashboardQuery:
    """Read the GET parameters; unknown values fall back to defaults instead of failing."""
    sort = args.get("sort", "name")
    per = args.get("per", "50")
    page = args.get("page", "1")
    return DashboardQuery(
        sort=sort if sort in SORT_KEYS else "name",
        descending=args.get("dir") == "desc",
        status=args.get("status", "") if args.get("status", "") in STATUSES else "",
        review_only=args.get("review") == "1",
        text=args.get("q", "").strip()[:100],
        page=max(1, int(page)) if page.isdigit() else 1,
        per_page=min(500, max(10, int(per))) if per.isdigit() else 50,
    )


def dashboard(
    session: Session, link: ResourceLink, query: DashboardQuery, policy: str = "best",
) -> tuple[list[DashboardRow], int]:
    """The page of learners the query asks for, and how many match it in all.

    One indexed query on the learner summary (lti_tool/progress.py): filter, sort, count (a
    window over the filtered rows) and one page, all in SQL.
    """
    p = LearnerProgress
    score = {"last": p.last_score, "mean": p.mean_score}.get(policy, p.best_score)
    conditions: list[ColumnElement[bool]] = [p.resource_link_pk == link.id]
    if query.status:
        conditions.append(p.status == query.status)
    if query.review_only:
        conditions.append(p.needs_review.is_(True))
    if query.text:
        pattern = f"%{query.text.lower()}%"
        # Correlated on the placement's learners: a course's few thousand, not every user of
        # the platform.
        conditions.append(select(User.id).where(
            User.id == p.user_pk,
            or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern),
                func.lower(User.subject).like(pattern))).exists())
    sort_columns = {
        "name": p.sort_name, "status": p.status, "score": score, "attempts": p.attempts,
        "time": p.seconds, "review": p.needs_review, "sync": p.grade_sync,
        "submitted": p.submitted_at,
    }

    column = sort_columns[query.sort]

    def order(by: Any) -> list[Any]:
        return [by.desc().nulls_last() if query.descending else by.asc().nulls_last()]

    # The page's learners are chosen on the summary table alone: for the default sort by name
    # an index-only scan of (placement, name, learner) reaches even the last page without a
    # sort; other keys take a top-N sort. Only those learners then meet their summary rows and
    # the users table. The count is a subquery in the same round trip: a window count would
    # make the database build every row, not just the page.
    keys = (
        select(p.user_pk.label("key"), column.label("sort_key"))
        .where(*conditions)
        .order_by(*order(column), p.user_pk)
        .limit(query.per_page).offset((query.page - 1) * query.per_page)
        .subquery()
    )
    count = select(func.count()).select_from(p).where(*conditions).scalar_subquery()
    page_rows = session.execute(
        select(p.user_pk, p.status, score.label("score"), p.attempts, p.seconds,
               p.needs_review, p.grade_sync, p.latest_attempt_id, p.submitted_at,
               p.graded_attempt_id, p.in_roster, User.subject, User.name, User.email,
               count.label("total"))
        .select_from(keys)
        .join(p, and_(p.resource_link_pk == link.id, p.user_pk == keys.c.key))
        .join(User, User.id == p.user_pk)
        .order_by(*order(keys.c.sort_key), keys.c.key)
    ).all()
    total = int(page_rows[0].total) if page_rows else int(
        session.scalar(select(func.count()).select_from(p).where(*conditions)) or 0)
    return [
        DashboardRow(
            subject=row.subject, name=row.name, email=row.email, status=row.status,
            score=row.score, attempts=row.attempts, seconds=row.seconds,
            needs_review=bool(row.needs_review), grade_sync=row.grade_sync or "",
            latest_attempt_id=row.latest_attempt_id, submitted_at=row.submitted_at,
            in_roster=row.in_roster is not False, graded_attempt_id=row.graded_attempt_id,
        )
        for row in page_rows
    ], total


def count_status(session: Session, link: ResourceLink, status: str) -> int:
    """How many learners of the placement are at this status (indexed)."""
    return int(session.scalar(select(func.count()).where(
        LearnerProgress.resource_link_pk == link.id, LearnerProgress.status == status)) or 0)


# --- item analysis (Moodle quiz statistics) ---


@dataclass(frozen=True)
class StepStats:
    """Facility and discrimination of one step (Moodle's definitions, as percentages)."""

    step_id: str
    title: str
    grader: str
    n: int
    facility: float | None
    """Mean score on the step over its maximum, in %."""
    discrimination: float | None
    """Pearson correlation (x100) of the step's marks with the rest of the test's marks."""
    sd: float | None
    """Standard deviation of the step score, in % of its maximum."""


@dataclass(frozen=True)
class OptionStats:
    """How often an option was chosen (for ranking: placed at its key rank) and by whom:
    `mean_score` is the mean total score of the attempts that chose it."""

    step_id: str
    option_id: str
    label: str
    correct: bool
    count: int
    share: float
    mean_score: float | None


@dataclass(frozen=True)
class CriterionStats:
    """Hit rate of one free-text criterion."""

    step_id: str
    criterion_id: str
    label: str
    n: int
    met: int
    partial: int
    missed: int
    hit_rate: float
    """(met + partial / 2) / n."""


@dataclass(frozen=True)
class ItemAnalysis:
    """Everything the item-analysis page shows for one scenario."""

    scenario_id: str
    attempts: int
    mean_score: float | None
    steps: tuple[StepStats, ...]
    options: tuple[OptionStats, ...]
    wrong_focus: tuple[OptionStats, ...]
    """Wrong coaching-focus choices, most common first."""
    criteria: tuple[CriterionStats, ...]
    histogram: tuple[int, ...]
    """Attempts per score band of 10 points: [0,10), [10,20), ..., [90,100]."""


def _scope(link_ids: Sequence[int], scenario_id: str) -> ColumnElement[bool]:
    return and_(Attempt.resource_link_pk.in_(link_ids), Attempt.scenario_id == scenario_id,
                Attempt.status.in_(DONE))


def _correlation(n: Any, sx: Any, sy: Any, sxy: Any, sxx: Any, syy: Any) -> float | None:
    if not n or n < 2:
        return None
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    if vx <= 1e-12 or vy <= 1e-12:
        return None
    return float((n * sxy - sx * sy) / math.sqrt(vx * vy))


def item_analysis(
    session: Session, link_ids: Sequence[int], scenario: Scenario
) -> ItemAnalysis:
    """Moodle-style statistics of one scenario over the graded attempts of the placements."""
    scope = _scope(link_ids, scenario.id)
    sr = StepResultRecord
    # One pass: each step's mark next to the rest of its attempt's marks (a window over the
    # attempt), then per-step sums for the mean, the spread and Pearson's r in one aggregate.
    marks = (
        select(sr.step_id, sr.score, (sr.score * sr.weight).label("mark"),
               (func.sum(sr.score * sr.weight).over(partition_by=sr.attempt_id)
                - sr.score * sr.weight).label("rest"))
        .join(Attempt, Attempt.id == sr.attempt_id)
        .where(scope)
        .subquery()
    )
    mark, rest = marks.c.mark, marks.c.rest
    step_rows = session.execute(
        select(
            marks.c.step_id,
            func.count().label("n"),
            func.avg(marks.c.score).label("mean"),
            func.sum(mark).label("sx"),
            func.sum(rest).label("sy"),
            func.sum(mark * rest).label("sxy"),
            func.sum(mark * mark).label("sxx"),
            func.sum(rest * rest).label("syy"),
            func.sum(marks.c.score * marks.c.score).label("ss"),
        )
        .group_by(marks.c.step_id)
    ).all()
    by_step = {row.step_id: row for row in step_rows}
    steps: list[StepStats] = []
    for step in scenario.steps:
        row = by_step.get(step.id)
        if row is None or not row.n:
            steps.append(StepStats(step.id, step.title, step.grader, 0, None, None, None))
            continue
        n, mean = int(row.n), float(row.mean)
        variance = max(0.0, float(row.ss) / n - mean * mean)
        sd = math.sqrt(variance * n / (n - 1)) if n > 1 else None
        corr = _correlation(n, float(row.sx), float(row.sy), float(row.sxy), float(row.sxx),
                            float(row.syy))
        steps.append(StepStats(
            step.id, step.title, step.grader, n, 100.0 * mean,
            None if corr is None else 100.0 * corr, None if sd is None else 100.0 * sd,
        ))

    # Attempts, mean and histogram in one scan: count and score sum per 10-point band.
    band = case(*((Attempt.score < (i + 1) / 10, i) for i in range(9)), else_=9)
    band = case((Attempt.score.is_(None), -1), else_=band)
    hist_rows = session.execute(
        select(band.label("band"), func.count().label("n"), func.sum(Attempt.score).label("sum"))
        .where(scope).group_by(band)
    ).all()
    histogram = [0] * 10
    for row in hist_rows:
        if int(row.band) >= 0:
            histogram[int(row.band)] = int(row.n)
    n_attempts = sum(int(row.n) for row in hist_rows)
    scored = sum(histogram)
    mean_score = sum(float(row.sum or 0.0) for row in hist_rows) / scored if scored else None

    oc = OptionChoiceRow
    # Classical distractor analysis: how many chose the option and the mean total score of
    # those who did (a distractor that attracts strong learners is suspect).
    choice_rows = session.execute(
        select(oc.step_id, oc.option_id, oc.correct, func.count().label("n"),
               func.avg(Attempt.score).label("mean"))
        .join(Attempt, Attempt.id == oc.attempt_id)
        .where(scope)
        .group_by(oc.step_id, oc.option_id, oc.correct)
    ).all()
    counted: dict[tuple[str, str], dict[bool, tuple[int, float | None]]] = defaultdict(dict)
    for row in choice_rows:
        counted[(row.step_id, row.option_id)][bool(row.correct)] = (
            int(row.n), None if row.mean is None else float(row.mean))
    options: list[OptionStats] = []
    wrong_focus: list[OptionStats] = []
    for step in scenario.steps:
        if not step.options:
            continue
        answered = by_step[step.id].n if step.id in by_step else 0
        for option in step.options:
            hits = counted.get((step.id, option.id), {})
            if step.grader == "ranking":
                # Distractor analysis of a ranking: how often the option sits at its key rank.
                count, chooser_mean = hits.get(True, (0, None))
                correct = True
            else:
                count, chooser_mean = next(iter(hits.values()), (0, None))
                correct = option.id in step.key
            stats = OptionStats(step.id, option.id, option.label, correct, count,
                                count / answered if answered else 0.0, chooser_mean)
            options.append(stats)
            if step.grader == "coaching_focus" and not correct and count:
                wrong_focus.append(stats)
    wrong_focus.sort(key=lambda o: -o.count)

    cr = CriterionResultRow
    crit_rows = session.execute(
        select(
            cr.step_id, cr.criterion_id, func.max(cr.label).label("label"),
            func.count().label("n"),
            func.sum(case((cr.status == "met", 1), else_=0)).label("met"),
            func.sum(case((cr.status == "partial", 1), else_=0)).label("partial"),
        )
        .join(Attempt, Attempt.id == cr.attempt_id)
        .where(scope)
        .group_by(cr.step_id, cr.criterion_id)
    ).all()
    text_steps = {s.id for s in scenario.steps if not s.options}
    order = {s.id: i for i, s in enumerate(scenario.steps)}
    criteria = sorted(
        (CriterionStats(
            row.step_id, row.criterion_id, row.label, int(row.n), int(row.met),
            int(row.partial), int(row.n) - int(row.met) - int(row.partial),
            (int(row.met) + int(row.partial) / 2) / int(row.n),
        ) for row in crit_rows if row.step_id in text_steps),
        key=lambda c: (order.get(c.step_id, 99), c.criterion_id),
    )

    return ItemAnalysis(
        scenario_id=scenario.id, attempts=n_attempts,
        mean_score=mean_score,
        steps=tuple(steps), options=tuple(options), wrong_focus=tuple(wrong_focus),
        criteria=tuple(criteria), histogram=tuple(histogram),
    )


def scenario_ids_in(session: Session, link_ids: Sequence[int]) -> list[str]:
    """Scenario ids that have graded attempts on these placements."""
    return list(session.scalars(
        select(Attempt.scenario_id).where(Attempt.resource_link_pk.in_(link_ids))
        .group_by(Attempt.scenario_id).order_by(Attempt.scenario_id)
    ))


# --- grader agreement (instructor decisions are the human labels) ---


@dataclass(frozen=True)
class Agreement:
    """Automatic vs human on one scenario, step or criterion."""

    scenario_id: str
    step_id: str
    criterion_id: str
    """'' for the step's score itself."""
    n: int
    qwk: float | None
    exact: float | None
    adjacent: float | None
    smd: float | None
    flagged: bool
    """QWK below 0.70 or |SMD| above 0.15: do not trust the grader here yet."""


def _agreement(key: tuple[str, str, str], machine: list[int], human: list[int]) -> Agreement:
    from graders.agreement import (
        adjacent_agreement,
        exact_agreement,
        quadratic_weighted_kappa,
        standardised_mean_difference,
    )

    qwk = quadratic_weighted_kappa(human, machine)
    smd = standardised_mean_difference(human, machine) if len(human) > 1 else None
    flagged = qwk < QWK_THRESHOLD or (smd is not None and abs(smd) > SMD_THRESHOLD)
    return Agreement(*key, len(human), qwk, exact_agreement(human, machine),
                     adjacent_agreement(human, machine), smd, flagged)


def latest_decisions(session: Session, attempt_ids_scope: Any) -> list[GradeAudit]:
    """The latest instructor decision per (attempt, step) among audit rows in scope."""
    latest = (
        select(func.max(GradeAudit.id))
        .where(GradeAudit.step_id.is_not(None), GradeAudit.attempt_id.in_(attempt_ids_scope))
        .group_by(GradeAudit.attempt_id, GradeAudit.step_id)
    )
    return list(session.scalars(select(GradeAudit).where(GradeAudit.id.in_(latest))))


def agreement_report(session: Session, link_ids: Sequence[int]) -> list[Agreement]:
    """Per scenario, per step and per criterion: QWK, exact/adjacent agreement and SMD."""
    from graders.agreement import score_to_label

    scope = select(Attempt.id).where(Attempt.resource_link_pk.in_(link_ids))
    pairs: dict[tuple[str, str, str], tuple[list[int], list[int]]] = defaultdict(
        lambda: ([], []))
    for audit in latest_decisions(session, scope):
        if audit.machine_score is None or audit.new_score is None:
            continue
        for key, machine, human in [
            ((audit.scenario_id, "", ""), audit.machine_score, audit.new_score),
            ((audit.scenario_id, audit.step_id or "", ""), audit.machine_score,
             audit.new_score),
        ]:
            pairs[key][0].append(score_to_label(machine))
            pairs[key][1].append(score_to_label(human))
        for criterion_id, status in audit.human_criteria.items():
            machine_status = audit.machine_criteria.get(criterion_id)
            if machine_status in STATUS_LABEL and status in STATUS_LABEL:
                key = (audit.scenario_id, audit.step_id or "", criterion_id)
                pairs[key][0].append(STATUS_LABEL[machine_status])
                pairs[key][1].append(STATUS_LABEL[status])
    return [_agreement(key, machine, human) for key, (machine, human) in sorted(pairs.items())]


# --- admin ---


@dataclass(frozen=True)
class PlacementSummary:
    """One placement across all courses, with completion and mean score."""

    link_id: int
    issuer: str
    course: str
    title: str
    module: str
    learners: int
    completed: int
    mean_score: float | None


def placement_summaries(session: Session) -> list[PlacementSummary]:
    """Every placement with learners started, learners completed and mean score (SQL)."""
    done_user = case((Attempt.status.in_(DONE), Attempt.user_pk))
    stmt = (
        select(
            ResourceLink.id, PlatformRegistration.issuer,
            func.coalesce(Context.title, Context.context_id, "").label("course"),
            ResourceLink.title, ResourceLink.resource_link_id,
            func.coalesce(ResourceLink.module_id, ResourceLink.scenario_id, "").label("module"),
            func.count(func.distinct(Attempt.user_pk)).label("learners"),
            func.count(func.distinct(done_user)).label("completed"),
            func.avg(case((Attempt.status.in_(DONE), Attempt.score))).label("mean"),
        )
        .join(PlatformRegistration, PlatformRegistration.id == ResourceLink.registration_id)
        .outerjoin(Context, Context.id == ResourceLink.context_pk)
        .outerjoin(Attempt, Attempt.resource_link_pk == ResourceLink.id)
        .group_by(ResourceLink.id, PlatformRegistration.issuer, Context.title,
                  Context.context_id, ResourceLink.title, ResourceLink.resource_link_id,
                  ResourceLink.module_id, ResourceLink.scenario_id)
        .order_by(PlatformRegistration.issuer, "course", ResourceLink.id)
    )
    return [
        PlacementSummary(row.id, row.issuer, row.course, row.title or row.resource_link_id,
                         row.module, int(row.learners), int(row.completed),
                         None if row.mean is None else float(row.mean))
        for row in session.execute(stmt)
    ]


@dataclass(frozen=True)
class ModuleSummary:
    """Completion and mean score of one module (or single scenario) over all placements."""

    module: str
    placements: int
    learners: int
    completed: int
    mean_score: float | None


def module_summaries(placements: Iterable[PlacementSummary]) -> list[ModuleSummary]:
    """Placement summaries rolled up per module (weighting means by completions)."""
    groups: dict[str, list[PlacementSummary]] = defaultdict(list)
    for p in placements:
        groups[p.module or "(default scenario)"].append(p)
    out = []
    for module, items in sorted(groups.items()):
        scored = [(p.mean_score, p.completed) for p in items if p.mean_score is not None]
        weight = sum(c for _, c in scored)
        mean = sum(m * c for m, c in scored) / weight if weight else None
        out.append(ModuleSummary(module, len(items), sum(p.learners for p in items),
                                 sum(p.completed for p in items), mean))
    return out


def page_deliveries(session: Session, rows: Sequence[DashboardRow]) -> dict[int, Any]:
    """Attempt id -> its newest outbox row (status, attempts, last_error), for the graded
    attempts of one dashboard page."""
    ids = [r.graded_attempt_id or r.latest_attempt_id for r in rows]
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    found = session.execute(
        select(OutboxItem.attempt_id, OutboxItem.status, OutboxItem.attempts,
               OutboxItem.last_error)
        .where(OutboxItem.attempt_id.in_(wanted)).order_by(OutboxItem.id))
    return {row.attempt_id: row for row in found}


def failing_deliveries(session: Session, limit: int = 200) -> list[OutboxItem]:
    """Outbox rows the LMS refused or that ran out of retries, plus those retrying, newest first."""
    return list(session.scalars(
        select(OutboxItem).where(or_(
            OutboxItem.status.in_(("failed", "rejected")),
            and_(OutboxItem.status == "pending", OutboxItem.attempts > 0)))
        .order_by(OutboxItem.id.desc()).limit(limit)
    ))


# --- CSV export ---

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class _Line:
    buffer: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self.writer = csv.writer(self.buffer)

    def __call__(self, cells: Sequence[object]) -> str:
        self.writer.writerow([neutralise(cell) for cell in cells])
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def export_records(session: Session, link_ids: Sequence[int], step_ids: Sequence[str],
                   chunk: int = 1000) -> Iterator[list[object]]:
    """The header, then one row of cells per attempt with its per-step scores, read with a
    server-side cursor (nothing is loaded whole). Cells are neutralised against formulas."""
    yield [neutralise(cell) for cell in (
        "attempt", "learner_id", "name", "email", "scenario", "scenario_version",
        "content_hash", "status", "score", "started", "submitted", "graded", "grade_sync",
        *[f"step:{s}" for s in step_ids])]
    stmt = (
        select(Attempt.id, User.subject, User.name, User.email, Attempt.scenario_id,
               Attempt.scenario_version, Attempt.content_hash, Attempt.status, Attempt.score,
               Attempt.created_at, Attempt.submitted_at, Attempt.graded_at,
               Attempt.grade_sync_status, StepResultRecord.step_id,
               cast(StepResultRecord.score, Float).label("step_score"))
        .join(User, User.id == Attempt.user_pk)
        .outerjoin(StepResultRecord, StepResultRecord.attempt_id == Attempt.id)
        .where(Attempt.resource_link_pk.in_(link_ids))
        .order_by(Attempt.id)
        .execution_options(yield_per=chunk)
    )
    current: Any = None
    scores: dict[str, float] = {}

    def emit(row: Any) -> list[object]:
        return [neutralise(cell) for cell in (
            row.id, row.subject, row.name, row.email, row.scenario_id, row.scenario_version,
            row.content_hash, row.status, "" if row.score is None else round(row.score, 4),
            _iso(row.created_at), _iso(row.submitted_at), _iso(row.graded_at),
            row.grade_sync_status or "",
            *["" if s not in scores else round(scores[s], 4) for s in step_ids])]

    for row in session.execute(stmt):
        if current is not None and row.id != current.id:
            yield emit(current)
            scores = {}
        current = row
        if row.step_id is not None:
            scores[row.step_id] = row.step_score
    if current is not None:
        yield emit(current)


def export_rows(session: Session, link_ids: Sequence[int], step_ids: Sequence[str],
                chunk: int = 1000) -> Iterator[str]:
    """CSV lines of every attempt with its per-step scores, streamed with a server-side cursor."""
    line = _Line()
    for record in export_records(session, link_ids, step_ids, chunk):
        yield line(record)


def export_xlsx(records: Iterable[Sequence[object]], target: IO[bytes]) -> None:
    """Write the records as an Excel workbook (openpyxl's write-only mode: rows go to disk as
    they come, so memory stays flat). Text cells are typed as strings, never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("attempts")
    for record in records:
        cells = []
        for value in record:
            cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would make "=..." a formula
            cells.append(cell)
        sheet.append(cells)
    book.save(target)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def answers_of(session: Session, attempt_id: int) -> dict[str, Any]:
    """Step id -> stored answer of an attempt."""
    return {r.step_id: r.value for r in session.scalars(
        select(StepResponse).where(StepResponse.attempt_id == attempt_id))}
