"""The demo platform's identity: key, people, course, claims, and its registration in the tool."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
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


def id_token(person: Person, scenario_id: str, nonce: str, client_id: str) -> str:
    """A signed LtiResourceLinkRequest for this person and scenario."""
    now = int(time.time())
    claims: dict[str, Any] = {
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
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "target_link_uri": tool_url("lti.launch"),
        CLAIM + "resource_link": {"id": f"demo-link-{scenario_id}", "title": scenario_id},
        CLAIM + "roles": [person.role],
        CLAIM + "context": CONTEXT,
        CLAIM + "custom": {"scenario": scenario_id},
        CLAIM + "tool_platform": {"guid": "coachlab-demo-lms", "name": "coachlab demo LMS",
                                  "product_family_code": "coachlab-demo"},
        CLAIM + "launch_presentation": {"document_target": "iframe"},
        AGS_CLAIM: {
            "scope": AGS_SCOPES,
            "lineitem": lineitem_url(scenario_id),
            "lineitems": demo_url(f"/ags/{CONTEXT['id']}/lineitems"),
        },
        NRPS_CLAIM: {
            "context_memberships_url": demo_url(f"/nrps/{CONTEXT['id']}/memberships"),
            "service_versions": ["2.0"],
        },
    }
    keys = demo_keys()
    return jwt.encode(claims, keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})


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
