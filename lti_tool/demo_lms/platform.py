"""The demo platform's identity: key, people, course, claims, and its registration in the tool."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from flask import current_app

from lti_tool.db import database
from lti_tool.keys import KeyPair, ensure_key_pair
from lti_tool.lti.claims import AGS_CLAIM, CLAIM, NRPS_CLAIM
from lti_tool.platforms import PlatformSpec, add_platform
from lti_tool.urls import tool_url

if TYPE_CHECKING:
    from flask import Flask

DEMO_KEY_FILE = "demo_lms_private_key.pem"
ACTIVITIES_FILE = "demo_lms_activities.json"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLIENT_ID = "coachlab-demo-tool"
DEPLOYMENT_ID = "demo-deployment-1"
CONTEXT = {"id": "demo-course-1", "label": "COACH-101",
           "title": "Coaching sellers (demo course)",
           "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]}
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


@dataclass(frozen=True)
class Person:
    """Someone the demo LMS lets you launch as."""

    id: str
    given_name: str
    family_name: str
    role: str

    @property
    def name(self) -> str:
        """Full name."""
        return f"{self.given_name} {self.family_name}"

    @property
    def is_instructor(self) -> bool:
        """True for the instructor."""
        return self.role == INSTRUCTOR


PEOPLE: dict[str, Person] = {
    p.id: p
    for p in (
        Person("demo-learner-ada", "Ada", "Learner", LEARNER),
        Person("demo-learner-ben", "Ben", "Learner", LEARNER),
        Person("demo-instructor-ivo", "Ivo", "Instructor", INSTRUCTOR),
    )
}


@dataclass(frozen=True)
class Activity:
    """A link in the demo course: one per library scenario, plus those added by Deep Linking."""

    id: str
    title: str
    custom: dict[str, str] = field(default_factory=dict)
    added: bool = False
    """True when an instructor added it through Deep Linking."""


def scenario_activity(scenario_id: str, title: str) -> Activity:
    """The built-in link to one library scenario (its id is the scenario id)."""
    return Activity(scenario_id, title, {"scenario": scenario_id})


_activities_lock = threading.Lock()


def _activities_path() -> Path:
    return Path(current_app.config["DATA_DIR"]) / ACTIVITIES_FILE


def added_activities() -> list[Activity]:
    """The links instructors added through Deep Linking (kept in the data dir, oldest first)."""
    path = _activities_path()
    if not path.exists():
        return []
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Activity(r["id"], r["title"], dict(r["custom"]), added=True) for r in rows]


def add_activities(items: Sequence[tuple[str, Mapping[str, str]]]) -> list[Activity]:
    """Store new links (title, custom parameters), as an LMS does with returned content items."""
    with _activities_lock:
        current = added_activities()
        new = [Activity(f"dl-{uuid.uuid4().hex[:10]}", title, dict(custom), added=True)
               for title, custom in items]
        rows = [asdict(a) for a in current + new]
        path = _activities_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return new


def demo_keys(app: Flask | None = None) -> KeyPair:
    """The demo platform's key pair, generated into the data dir when missing."""
    target = app if app is not None else current_app
    keys: KeyPair | None = target.extensions.get("coachlab_demo_keys")
    if keys is None:
        keys = ensure_key_pair(Path(target.config["DATA_DIR"]) / DEMO_KEY_FILE)
        target.extensions["coachlab_demo_keys"] = keys
    return keys


def demo_url(path: str = "") -> str:
    """Absolute URL of a demo LMS path (it lives under /demo of the tool's server)."""
    return tool_url("demo_lms.home").rstrip("/") + path


def browser_url(path: str = "") -> str:
    """A demo LMS URL on the host the browser opens the demo on (`coachlab serve --demo` says
    localhost, so the tool at 127.0.0.1 runs cross-site); the OIDC auth endpoint lives there,
    so the tool's frame-ancestors and client-side storage see the LMS page's real origin."""
    return demo_url(path).replace("://127.0.0.1", "://localhost", 1)


def issuer() -> str:
    """The demo platform's issuer."""
    return demo_url()


def lineitem_url(scenario_id: str) -> str:
    """The AGS line item of one scenario's link in the demo course."""
    return demo_url(f"/ags/{CONTEXT['id']}/lineitems/{scenario_id}")


def _base_claims(person: Person, nonce: str, client_id: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer(),
        "aud": client_id,
        "sub": person.id,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "jti": str(uuid.uuid4()),
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": f"{person.id}@demo-lms.invalid",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "roles": [person.role],
        CLAIM + "context": CONTEXT,
        CLAIM + "tool_platform": {"guid": "coachlab-demo-lms", "name": "coachlab demo LMS",
                                  "product_family_code": "coachlab-demo"},
        CLAIM + "launch_presentation": {"document_target": "iframe"},
    }


def _sign(claims: dict[str, Any]) -> str:
    keys = demo_keys()
    return jwt.encode(claims, keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})


def id_token(person: Person, activity: Activity, nonce: str, client_id: str) -> str:
    """A signed LtiResourceLinkRequest for this person and course link."""
    claims = _base_claims(person, nonce, client_id)
    claims.update({
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "target_link_uri": tool_url("lti.launch"),
        CLAIM + "resource_link": {"id": f"demo-link-{activity.id}", "title": activity.title},
        CLAIM + "custom": activity.custom,
        AGS_CLAIM: {
            "scope": AGS_SCOPES,
            "lineitem": lineitem_url(activity.id),
            "lineitems": demo_url(f"/ags/{CONTEXT['id']}/lineitems"),
        },
        NRPS_CLAIM: {
            "context_memberships_url": demo_url(f"/nrps/{CONTEXT['id']}/memberships"),
            "service_versions": ["2.0"],
        },
    })
    return _sign(claims)


def deep_linking_token(person: Person, nonce: str, client_id: str, data: str) -> str:
    """A signed LtiDeepLinkingRequest: the instructor adds coachlab content to the course."""
    claims = _base_claims(person, nonce, client_id)
    claims.update({
        CLAIM + "message_type": "LtiDeepLinkingRequest",
        CLAIM + "target_link_uri": tool_url("lti.launch"),
        DL_CLAIM + "deep_linking_settings": {
            "deep_link_return_url": browser_url("/deep-linking/return"),
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "accept_lineitem": True,
            "title": "Add coachlab activities",
            "data": data,
        },
    })
    return _sign(claims)


def register_demo_platform(app: Flask) -> None:
    """Register (or refresh) the demo platform in the tool's database."""
    with app.test_request_context():
        spec = PlatformSpec(
            issuer=issuer(),
            client_id=CLIENT_ID,
            deployment_ids=(DEPLOYMENT_ID,),
            auth_login_url=browser_url("/auth"),
            auth_token_url=demo_url("/token"),
            key_set_url=demo_url("/jwks.json"),
            # Inline too: the tool never has to fetch its own server's URL to verify a launch.
            key_set=demo_keys(app).jwks(),
        )
        with database(app).sessions() as session:
            add_platform(session, spec)
            session.commit()
