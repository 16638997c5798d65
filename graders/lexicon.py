"""Built-in word lists of the coaching_plan grader (scenario rubrics add to them)."""

from __future__ import annotations

from graders.text import stem

# Extra ways learners name each task, beyond the catalogue's label and synonyms: plain
# descriptions of the activity ("which accounts get a visit") count as naming the task.
TASK_PHRASES: dict[str, tuple[str, ...]] = {
    "territory_coverage": (
        "whole patch", "whole territory", "rest of the territory", "rest of her territory",
        "rest of his territory", "rest of the patch", "cover more accounts", "more accounts",
        "c accounts", "c list", "c-accounts", "untouched", "accounts touched", "touch",
        "big accounts only", "spread her time", "spread his time", "which accounts get",
        "coverage", "territory coverage", "tier the accounts", "tiering", "tier", "tiers",
        "tiered", "touch plan", "coverage plan", "coverage planning", "prioritize accounts",
        "prioritizing accounts", "account prioritization", "which accounts", "untouched accounts",
        "where her time goes", "where his time goes", "where her weeks go", "time allocation",
        "segment the territory", "segmenting", "segmentation", "cover the territory",
        "territory planning", "territory plan", "book of accounts", "must-see",
    ),
    "prospecting": (
        "prospect", "prospects", "prospecting", "cold call", "cold calls", "outbound calls",
        "new logos", "book more meetings", "more meetings", "call blocks", "call block",
        "more activity", "activity levels", "sequences", "new meetings", "new first meetings",
        "new opportunities", "pipeline growth", "bigger pipeline", "more pipeline",
        "grow the pipeline", "grow his pipeline", "grow her pipeline",
        "add opportunities", "outreach", "outreach list", "hunting", "keep hunting",
    ),
    "qualification": (
        "qualify", "qualifies", "qualifying", "qualification", "qualified", "economic buyer",
        "meddic", "meddpicc", "bant", "disqualify", "qualify out", "deal qualification",
        "which ones are real", "real deals", "real deal", "who signs", "who actually signs",
        "decision process", "keep or kill", "keep/kill", "deal from a wish", "qual",
    ),
    "discovery": (
        "talks too much", "talking too much", "let the customer talk", "let the buyer talk",
        "ask more", "better questions", "pitch", "pitches", "pitching",
        "slow down on his calls", "slowing down", "first calls", "first call",
        "discovery", "discovery call", "discovery calls", "discovery questions", "open questions",
        "talk ratio", "talk less", "listen more", "listening", "needs analysis", "questioning",
        "pain", "pitching too early", "pitch too early",
    ),
    "pipeline_management": (
        "pipeline hygiene", "pipeline management", "pipeline review", "pipeline reviews",
        "stale deals", "stale opportunities", "close dates", "close date", "next steps",
        "next step", "dated next step", "crm hygiene", "clean the pipeline",
        "clean up the pipeline",
        "old opportunities", "deal progression", "pipeline", "pipe", "pipe hygiene",
        "pipe review", "pipe mgmt", "pipeline hygiene", "next date", "oldest deals", "old deals",
        "aged deals", "aged opportunities", "aged opps", "past their close date",
        "off the list", "clean pipeline", "stale", "zombie deals", "zombies",
    ),
    "forecasting": (
        "forecast", "forecasting", "forecast accuracy", "commit forecast", "forecast call",
    ),
    "negotiation": (
        "negotiation", "negotiating", "negotiate", "negotiator", "discount", "discounting",
        "closing skills", "closing techniques", "close better", "better closer", "pricing",
        "procurement", "price uplift", "margin",
    ),
    "account_planning": (
        "account plan", "account plans", "account planning", "whitespace", "white space",
        "strategic account plan", "joint business plan", "joint business plans",
    ),
    "stakeholder_mapping": (
        "relationships", "relations", "more people", "know more people", "who else",
        "contacts", "more friends", "one sponsor", "single sponsor", "map", "mapping",
        "successor", "successors", "sponsor retires", "division heads", "business unit",
        "stakeholder", "stakeholders", "stakeholder map", "stakeholder mapping",
        "multi-threading", "multithreading", "multi-thread", "multithread", "single-threaded",
        "single threaded", "relationship map", "power map", "buying committee", "more contacts",
        "new contacts", "business units", "org chart", "contacts per account", "widen",
        "broaden the relationships", "more relationships", "stakeholder coverage",
    ),
    "executive_relationships": (
        "executive relationships", "executive presence", "executive sponsor", "c-level",
        "executives", "executive access", "exec alignment", "senior stakeholders",
    ),
    "internal_orchestration": (
        "internal orchestration", "orchestration", "orchestrate", "orchestrating",
        "regional teams", "regional team", "account team", "virtual account team",
        "internal alignment", "solution specialists", "specialists", "rollout plan",
        "regional rollout", "mobilise", "mobilize", "internal resources", "global account team",
        "our side", "our own people", "own company", "our company", "the regions", "regions",
        "internal coordination", "coordination", "regional", "our people", "rollout planning",
    ),
    "partner_enablement": (
        "partners do more", "partners do the", "partner sellers", "trained", "train partners",
        "train the partner", "self-sufficient", "stand on their own",
        "partners sell", "partners run", "partners' sellers", "partner-led",
        "partner enablement", "enable partners", "enabling partners", "enablement",
        "certification", "certify", "certified", "certifying", "partner training",
        "partner sellers", "partner readiness", "train the partners", "partner-sourced",
        "partner sourced", "enable the partners", "channel enablement",
    ),
    "value_realisation": (
        "outcomes", "prove the value", "proving value", "paying off", "using the product",
        "use what they bought", "success plan", "success plans", "health", "retention",
        "value realization", "value realisation", "value review", "value reviews", "adoption",
        "business review", "business reviews", "qbr", "qbrs", "roi", "usage", "health score",
        "success plan", "customer success plan", "value",
    ),
}

# Plain-language paraphrases of each task's catalogue description, for managers who describe
# the idea instead of naming it (rubric D8): what the seller should do or stop doing, in
# everyday words. Written from the task's meaning, so they add recall without naming a rival.
CONCEPT_PHRASES: dict[str, tuple[str, ...]] = {
    "territory_coverage": (
        "who gets a visit", "who gets a call", "which accounts get a call",
        "accounts nobody has called", "accounts she never calls", "accounts he never calls",
        "spread across the territory", "the long tail of accounts", "how often each account",
        "touch every account", "the accounts she ignores", "the accounts he ignores",
    ),
    "prospecting": (
        "new conversations", "start new conversations", "new buyers", "not yet engaged",
        "fill the top of the funnel", "top of funnel", "cold outreach",
    ),
    "qualification": (
        "is the deal real", "whether the deal is real", "deals that are not real",
        "whoever signs", "who can sign", "who holds the budget", "budget holder",
        "reason to buy", "reason to act", "compelling event",
        "worth pursuing", "worth chasing", "winnable", "no buyer", "real buyer",
        "kill the deal", "kill list", "walk away from",
    ),
    "discovery": (
        "follow-up question", "follow-up questions", "ask questions", "asking questions",
        "the customer's problem",
        "the buyer's problem", "cost of the problem", "before pitching", "before the demo",
        "demo too early", "let the customer speak", "understand the problem",
    ),
    "pipeline_management": (
        "open deals",
        "what happens next", "next date", "date for the next step", "past due", "overdue deals",
        "stage honestly", "honest stages", "keep the pipeline current", "closed lost",
        "close-lost", "mark them lost", "clear out the dead",
    ),
    "forecasting": (
        "call the number", "calling the number", "what will close", "predict what closes",
        "forecast call",
    ),
    "negotiation": (
        "give away margin", "gives away margin", "trade value for value", "price concessions",
        "concessions",
    ),
    "account_planning": (
        "written plan for the account", "plan for each account", "goals for the account",
        "initiatives and owners",
    ),
    "stakeholder_mapping": (
        "buying centre", "buying center", "dmu", "decision-making unit", "influencers",
        "everyone who shapes the decision", "several people in each account",
        "more than one contact", "only one contact", "one contact per account",
    ),
    "executive_relationships": (
        "senior executives", "board level", "the c-suite", "c-suite",
    ),
    "internal_orchestration": (
        "act as one team", "one team for the account", "internal stakeholders",
        "internal teams", "our specialists", "our regional",
        "the account team", "our own organisation", "our own organization",
    ),
    "partner_enablement": (
        "partners selling", "partner reps", "partner sales reps", "partners demo",
        "partners run the demos", "partners run demos", "sell without her", "sell without him",
        "selling without her", "selling without him", "sell on their own",
        "selling on their own", "deliver on their own",
    ),
    "value_realisation": (
        "what they paid for", "what they bought", "product usage", "usage data", "low usage",
        "see the value", "show the value", "prove value", "value delivered", "about value",
        "business outcomes", "outcome the customer", "outcomes the customer", "ebr", "ebrs",
        "executive business review", "executive business reviews",
    ),
}

# Generic development subjects: a plan centred on these coaches no selling task (rubric:
# "generic leadership, motivation, confidence or mindset" is a wrong focus).
GENERIC_PHRASES: tuple[str, ...] = (
    "leadership", "leadership skills", "leadership brand", "personal brand", "mindset",
    "growth mindset", "motivation", "motivated", "self-belief", "confidence", "self-confidence",
    "resilience", "attitude", "wellbeing", "well-being", "energy levels", "career",
    "career path", "career development", "personal development",
    "360 review", "360 feedback", "mentoring", "emotional intelligence",
    "soft skills", "work-life balance", "burnout", "morale", "engagement survey",
    "pep talk", "pep talks", "positive thinking", "accountability culture",
)

def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


# Concepts by meaning rather than by phrase: a word of the first set within a few words of a
# word of the second, in one sentence, names the task ("split the 280 into three piles" is
# tiering, "too much time with a few customers" is coverage, "talks too much" is discovery).
# Written from each task's description; such a match weighs like an everyday phrase and never
# alone earns full marks (a human confirms).
ACCOUNT_WORDS = _stems("account accounts customer customers client clients book territory "
                       "names list")
CONCEPT_PAIRS: dict[str, tuple[tuple[frozenset[str], frozenset[str]], ...]] = {
    "territory_coverage": (
        (_stems("sort split group groups bucket buckets pile piles rank segment divide "
                "classify categorize triage"), ACCOUNT_WORDS | {"#count"}),
        (_stems("few handful same rest whole enough spread neglected ignored untouched "
                "forgotten sleeping"), _stems("account accounts customer customers client "
                                              "clients")),
    ),
    "stakeholder_mapping": (
        (_stems("more other new several beyond multiple wider broader additional only single"),
         _stems("people person persons contact contacts relationship relationships "
                "stakeholders names")),
    ),
    "discovery": (
        (_stems("talk talks talking speak speaks speaking pitch pitches pitching monologue"),
         _stems("less too fewer instead ratio")),
        (_stems("ask asks asking question questions listen listens listening"),
         _stems("more better open first before")),
    ),
    "qualification": (
        (_stems("find identify confirm meet reach"), _stems("signer signs budget authority")),
    ),
    "pipeline_management": (
        (_stems("dated stale overdue stuck update current honest"),
         _stems("deal deals opp opps opportunity opportunities step steps stage stages pipeline "
                "funnel")),
    ),
    "partner_enablement": (
        (_stems("partner partners reseller resellers channel"),
         _stems("train teach certify enable independently alone themselves")),
    ),
    "value_realisation": (
        (_stems("use using usage adopt adoption outcome outcomes benefit benefits saving "
                "savings"),
         _stems("customer customers client clients bought paid product licence license seats")),
    ),
    "internal_orchestration": (
        (_stems("internal colleagues specialists regional delivery experts"),
         _stems("involve align bring coordinate mobilize rally engage brief orchestrate")),
    ),
}
CONCEPT_DISTANCE = 5
"""At most this many words between the two halves of a concept pair."""

# Catalogue synonyms that are everyday words: alone they do not name a task ("in terms of").
AMBIGUOUS_SYNONYMS = frozenset({"terms", "commit", "time", "usage", "value", "margin"})

# Concrete coaching actions the manager does with the seller (the rubric's actions add to them).
ACTIONS: tuple[str, ...] = (
    "joint territory plan", "territory planning session", "weekly pipeline review",
    "pipeline review", "stakeholder map session", "stakeholder mapping session",
    "stakeholder mapping workshop", "ride-along", "ride along", "role-play", "role play",
    "roleplay", "call review", "call reviews", "review calls", "review call recordings",
    "call recording", "call recordings", "recorded calls", "listen to calls",
    "listen to his calls", "listen to her calls", "deal review", "deal reviews", "shadowing",
    "shadow", "joint call", "joint calls", "joint visit", "joint visits", "debrief",
    "debriefs", "practice session", "practice run", "rehearse", "rehearsal", "working session",
    "workshop together", "sit down together", "tiering session", "coverage review",
    "weekly review", "weekly check-in", "weekly one-to-one", "weekly 1:1", "review every week",
    "every friday", "every monday", "each friday", "each monday", "every week", "each week",
    "every two weeks", "observe", "observe her",
    "observe him", "account review", "joint account review", "account planning session",
    "calendar review", "time audit", "certification plan", "enablement plan",
    "value review plan", "qbr plan", "mock call", "mock calls", "feedback after each call",
    "plan together", "build together", "draft together", "build the plan with her",
    "build the plan with him", "she drafts", "he drafts", "she presents", "he presents",
    "go through", "we go through", "we sit down", "sit down with her", "sit down with him",
    # How managers write the same actions in other words: sitting in, a dry run, feedback
    # straight after, a scorecard in the one-to-one.
    "sit in on", "sit in", "dry run", "dry-run", "give her feedback", "give him feedback",
    "feedback straight after", "listen in", "scorecard", "in our 1:1", "in our one-to-one",
)

# First-person phrases where the manager does the seller's job.
TAKEOVER_PHRASES: tuple[str, ...] = (
    "i will call", "i will phone", "i will ring", "i will visit", "i will email",
    "i will contact", "i will run the deal", "i will run the deals", "i will run the calls",
    "i will run the discovery", "i will run the meeting", "i will run the meetings",
    "i will lead the deal", "i will lead the negotiation", "i will negotiate",
    "i will close", "i will handle", "i will take over", "i will take it over",
    "i will take the deal", "i will take the account", "i will take the accounts",
    "i will step in", "i will jump in", "i will do the", "i will work the accounts",
    "i will clean", "i will fix", "i will present", "i will demo", "i will do the demo",
    "i will do the demos", "i will meet the", "i will sort it", "i will pitch",
    "let me handle", "let me take", "let me run", "let me call", "leave it to me",
    "assign the accounts to me", "assign them to me", "hand them to me", "hand it to me",
    "i take over", "i run the deal", "i call the", "i handle", "i will personally",
    "myself", "my own network", "i am going to call", "i am going to run",
    "i am going to take over", "i am going to handle", "i would call", "i would take over",
    "i would run the deal", "i would handle", "i would step in", "i would phone",
)

# Takeover by grammatical agent: the manager ("I") is the subject of a verb of selling or
# contacting, and its object is the customer's people or the scenario's named people and
# accounts ("I'll have a word with Kenji", "I will phone their CFO"). Introductions are not
# here: an introduction the seller follows up is support.
CONTACT_STEMS = frozenset(stem(w) for w in (
    "call phone ring email mail meet visit talk speak word negotiate present pitch demo "
    "handle sort smooth close chase escalate contact reach approach sell lead run fix "
    "persuade convince lobby"
).split())
CUSTOMER_ROLES = frozenset({
    "cfo", "ceo", "cpo", "cio", "coo", "cto", "cmo", "vp", "svp", "evp", "director",
    "directors", "head", "heads", "buyer", "buyers", "procurement", "sponsor", "champion",
    "executive", "executives", "exec", "execs", "board", "customer", "customers", "client",
    "clients", "signer", "owner", "owners",
})
AGENT_SKIP = frozenset({"will", "would", "shall", "am", "going", "to", "personally", "also",
                        "then", "just", "quickly", "myself", "have", "a", "quiet", "quick",
                        "make", "do", "the", "first", "directly", "simply", "can", "could",
                        "should", "must", "need", "might", "may", "get", "go", "and"})
"""Words between 'I' and the verb in 'I will personally just go and have a quiet word'."""
OBSERVER_WORDS = frozenset({"listen", "listens", "listening", "observe", "observes",
                            "observing", "observer", "watch", "watches", "watching", "silent",
                            "shadow", "shadows"})

COMPARATIVES = frozenset({
    "more", "earlier", "deeper", "further", "faster", "bigger", "harder", "higher", "longer",
    "sooner", "closer", "quicker", "larger", "heavier", "greater", "tighter", "stronger",
})
"""After 'even': more of the same ('even earlier', 'even deeper with the CPO')."""

# The seller goes off to a generic course instead of being coached.
COURSE_WORDS = frozenset(
    {"course", "courses", "training", "workshop", "seminar", "webinar", "class", "bootcamp",
     "elearning", "e-learning", "programme", "program", "module"}
)
SEND_WORDS = frozenset({"send", "sending", "enrol", "enroll", "enrolling", "sign", "book",
                        "register", "signing"})

# Text aimed at whoever scores the answer.
GRADER_PHRASES: tuple[str, ...] = (
    "ignore the rubric", "ignore the instructions", "ignore previous instructions",
    "ignore all previous", "ignore all instructions", "ignore your instructions",
    "give full marks", "full marks", "full credit", "full score", "maximum score",
    "maximum marks", "highest score", "top marks", "award full", "award this", "award me",
    "give this answer",
    "give me full", "give me a 2", "give it a 2", "as the grader", "dear grader", "grader",
    "the rubric", "you must give", "you must score", "you must award", "language model",
    "as an ai", "dear ai", "system prompt", "score 2", "label 2", "this answer deserves",
    "this answer contains the right", "automated marker", "dear marker", "the marker",
    "the evaluator", "dear evaluator", "instruction for the", "instructions for the", "top label",
    "model answer",
    "assessor", "examiner", "highest label", "top grade",
)
# Not listed: "mark it", "score this", "rate it" - a pipeline plan says "he marks it lost" and
# "we score this account"; a request for a score is recognised by its shape instead
# (rubric.scorer_directed).

# Text aimed at the scorer, by shape rather than by phrase: a sentence that addresses whoever
# scores the answer and asks for a score, or asks outright for a top score. Addressees are the
# roles and machines that score ("dear evaluator", "AI:", "automated reviewer").
SCORER_WORDS = frozenset({
    "grader", "graders", "grading", "evaluator", "evaluators", "marker", "markers", "assessor",
    "assessors", "examiner", "examiners", "scorer", "scorers", "ai", "llm", "chatbot", "gpt",
    "bot", "autograder", "rater", "raters",
})
SCORER_MODIFIERS = frozenset({"automated", "automatic", "auto", "ai", "dear", "machine",
                              "scoring", "grading", "marking", "evaluation", "assessment"})
"""Before 'reviewer', 'system', 'model', 'checker': 'automated reviewer' is the scorer."""
SCORER_NOUNS = frozenset({"reviewer", "reviewers", "system", "model", "checker", "program",
                          "engine", "algorithm", "software", "tool"})
SCORE_VERBS = frozenset(stem(w) for w in (
    "award rate score grade mark give assign label accept pass receive deserve earn record"
).split())
"""Stems of what a scorer does with an answer."""
SCORE_OBJECTS = frozenset({"maximum", "max", "full", "top", "highest", "perfect", "marks",
                           "points", "credit", "score", "grade", "label", "rating", "correct",
                           "reference", "rubric", "instructions", "prompt", "criterion",
                           "criteria", "answer", "response", "submission"})
STRONG_SCORE_OBJECTS = frozenset({"maximum", "max", "highest", "perfect", "marks", "highly"})
"""Asked for with a scoring verb they need no addressee ('please award the maximum') - when
they end the sentence or name a score ('the highest priority' is not a score)."""
MARKS_HOSTS = frozenset({"full", "top", "maximum", "max", "highest", "perfect", "the", "all",
                         "most", "good", "high"})
"""'marks' is a score after these words (or a number); 'he marks the moment' is a verb."""
SCORE_NOUNS = frozenset({"score", "scores", "mark", "marks", "grade", "grades", "label",
                         "points", "rating", "possible"})
UNKNOWN_SCORER = frozenset({"whoever", "whatever"})
"""'Note to whoever is scoring this': an unnamed scorer, addressed with a scoring verb."""

# Words that end a clause for negation purposes, beyond punctuation.
CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "instead", "whereas", "so",
                          "because", "since", "while", "then", "until", "till", "til"})
NEGATORS = frozenset({"not", "no", "never", "without", "nor", "neither", "avoid", "forget",
                      "skip", "nothing"})
PRAISE_WORDS = frozenset({"strength", "strengths", "already", "excel", "excels", "excellent",
                          "brilliant", "great", "strong", "best", "superb", "outstanding",
                          "good", "fine", "solid", "expert", "trust", "trusts"})
BE_WORDS = frozenset({"is", "are", "was", "be", "were", "am", "seems", "looks"})
NOT_ISSUE_WORDS = frozenset({"issue", "problem", "gap", "focus", "priority", "concern",
                             "point", "answer", "weakness", "topic"})
FOCUS_MARKERS = frozenset({"focus", "priority", "main", "key", "core", "primary",
                           "mainly", "mostly", "chiefly", "centre", "center", "thing", "month",

                           "biggest", "largest", "work", "coach", "improve", "fix", "build",
                           "develop", "goal", "theme", "problem", "gap", "issue"})
SECONDARY_MARKERS = frozenset({"once", "later", "afterwards", "secondary", "eventually",
                               "bit", "maybe", "perhaps", "permitting", "if",
                               "also", "too", "context", "leverage", "meanwhile"})
CONTRAST_NEGATORS = frozenset({"than", "instead", "rather"})
FIRST_PERSON = frozenset({"i", "we", "us", "me", "let", "our", "my", "i'd", "we'd"})
THIRD_PERSON = frozenset({"he", "she", "they", "his", "her", "their", "it", "customers",
                          "customer", "partners", "accounts", "who", "which", "that"})

# A cadence or "together" plus a coaching activity in one clause is a concrete action.
CADENCE_STEMS = frozenset(stem(w) for w in (
    "weekly daily fortnightly biweekly every each monday tuesday wednesday thursday friday "
    "mondays tuesdays wednesdays thursdays fridays morning afternoon week weeks"
).split())
TOGETHER_STEMS = frozenset(stem(w) for w in ("together", "jointly", "joint", "alongside"))
ACTIVITY_STEMS = frozenset(stem(w) for w in (
    "review reviews reviewing debrief debriefs check build draft plan prepare practise practice "
    "rehearse roleplay role map session sessions workshop walk walks go look listen compare "
    "slot meeting one-to-one sit sort tier rank score mark pick track agree observe shadow bring "
    "ask call calls standup stand huddle catch sync scrub one-on-one 1:1 1-1 checkin"
).split())

# Phrases that name a task only weakly: everyday words that often stand for something else
# ("qualify the pipeline", "Friday deal review"). Their mentions weigh half.
WEAK_PHRASES = frozenset({
    "pipeline", "pipe", "deal review", "deal reviews", "pipeline review", "pipeline reviews",
    "close",
    "closing", "pitch", "pitches", "pitching", "map", "mapping", "touch", "trained",
    "contacts", "relationships", "relations", "health", "retention", "outcomes", "first call",
    "first calls", "tier", "tiers", "next step", "next steps", "specialists", "certified",
    # Everyday words that only sometimes mean the task ("he listens to me", "regional plants").
    "questioning", "listening", "regional", "regions", "the regions", "untouched",
    "concept",  # a concept-pair match (rubric.concept_matches)
})
