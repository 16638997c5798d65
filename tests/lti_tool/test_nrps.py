"""Names and Role Provisioning: paging, the rlid filter, caching, failures degrade to a notice."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import db
from lti_tool.cache import get_cache
from lti_tool.lti.nrps import Member, Roster, fetch_roster, members_url, not_started
from lti_tool.models import PlatformRegistration
from tests.conftest import Launcher, PlatformInfo
from tests.lti_tool.lti_helpers import NRPS, route_hosts

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MEMBERS_URL = "https://lms.example.test/courses/1/memberships"


class FakeLms:
    """A platform's token and memberships endpoints, with switchable failures."""

    def __init__(self) -> None:
        self.app = Flask("fake-lms")
        self.calls: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.tokens = 0
        self.members = [
            {"user_id": "user-learner", "name": "Lee Learner", "roles": [LEARNER]},
            {"user_id": "s2", "name": "Ann Absent", "email": "ann@x.test", "roles": [LEARNER]},
            {"user_id": "s3", "given_name": "Bo", "family_name": "Gone", "roles": [LEARNER],
             "status": "Inactive"},
            {"user_id": "t1", "name": "Tess Teacher", "roles": [TEACHER]},
            {"user_id": "s4", "name": "Zed Zero", "roles": ["Learner"]},
        ]
        app = self.app

        @app.post("/token")
        def token() -> Any:
            self.tokens += 1
            assert request.form["grant_type"] == "client_credentials"
            return jsonify(access_token=f"token-{self.tokens}", token_type="bearer",
                           expires_in=3600)

        @app.get("/courses/1/memberships")
        def memberships() -> Any:
            self.calls.append({"args": dict(request.args),
                               "auth": request.headers.get("Authorization"),
                               "accept": request.headers.get("Accept")})
            if self.fail_with:
                return "the LMS is down", self.fail_with
            page = int(request.args.get("page", "1"))
            size = 2
            body = {"id": MEMBERS_URL, "members": self.members[(page - 1) * size:page * size]}
            response = jsonify(body)
            if page * size < len(self.members):
                query = "&".join(f"{k}={v}" for k, v in {**request.args, "page": page + 1}.items())
                response.headers["Link"] = (f'<{MEMBERS_URL}?{query}>; rel="next", '
                                            f'<{MEMBERS_URL}>; rel="first"')
            return response


@pytest.fixture
def lms(app: Flask, platform: PlatformInfo) -> FakeLms:
    fake = FakeLms()
    route_hosts(app, {platform.issuer: fake.app})
    return fake


def _claim(versions: tuple[str, ...] = ("2.0",)) -> dict[str, Any]:
    return {"context_memberships_url": MEMBERS_URL, "service_versions": list(versions)}


def _registration(app: Flask) -> PlatformRegistration:
    with db.database(app).sessions() as session:
        row = session.scalars(select(PlatformRegistration)).one()
        session.expunge(row)
        return row


def test_members_url_adds_rlid_only_for_nrps_2() -> None:
    assert members_url(_claim(), "link 1") == MEMBERS_URL + "?rlid=link+1"
    assert members_url(_claim(("1.0",)), "link-1") == MEMBERS_URL
    assert members_url(_claim(), None) == MEMBERS_URL
    with_query = {"context_memberships_url": MEMBERS_URL + "?type_id=3",
                  "service_versions": ["2.0"]}
    assert members_url(with_query, "l") == MEMBERS_URL + "?type_id=3&rlid=l"


def test_roster_follows_every_page_with_the_filter(app: Flask, lms: FakeLms) -> None:
    with app.test_request_context():
        roster = fetch_roster(app, _registration(app), _claim(), "link-1")
    assert roster.ok and roster.error is None
    assert [m.user_id for m in roster.members] == ["user-learner", "s2", "s3", "t1", "s4"]
    assert [c["args"].get("page", "1") for c in lms.calls] == ["1", "2", "3"]
    assert all(c["args"]["rlid"] == "link-1" for c in lms.calls)
    assert all(c["auth"] == "Bearer token-1" for c in lms.calls)  # one token for all pages
    assert lms.calls[0]["accept"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    assert roster.members[2] == Member("s3", "Bo Gone", "", (LEARNER,), "Inactive")
    assert [m.user_id for m in roster.active_learners()] == ["user-learner", "s2", "s4"]


def test_roster_is_cached_briefly(app: Flask, lms: FakeLms) -> None:
    with app.test_request_context():
        first = fetch_roster(app, _registration(app), _claim(), "link-1")
        again = fetch_roster(app, _registration(app), _claim(), "link-1")
        assert first == again and len(lms.calls) == 3
        get_cache(app).clear()
        fetch_roster(app, _registration(app), _claim(), "link-1")
    assert len(lms.calls) == 6


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_failures_return_an_error_and_are_not_cached(
    app: Flask, lms: FakeLms, status: int
) -> None:
    lms.fail_with = status
    with app.test_request_context():
        roster = fetch_roster(app, _registration(app), _claim(), "link-1")
        assert roster.members == () and roster.error and str(status) in roster.error
        lms.fail_with = None
        assert fetch_roster(app, _registration(app), _claim(), "link-1").ok


def test_unreachable_lms_and_missing_claim_do_not_raise(app: Flask, platform: PlatformInfo) -> None:
    def broken() -> Any:
        import requests

        class Down(requests.Session):
            def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                raise requests.ConnectionError("connection refused")
        return Down()
    app.config["HTTP_SESSION_FACTORY"] = broken
    with app.test_request_context():
        roster = fetch_roster(app, _registration(app), _claim(), None)
        assert roster.error and "connection refused" in roster.error
        assert fetch_roster(app, _registration(app), {}, None).error


def test_not_started_lists_active_learners_without_attempts() -> None:
    roster = Roster(members=(
        Member("a", "Zoe", "", (LEARNER,)), Member("b", "adam", "", (LEARNER,)),
        Member("c", "Cy", "", (LEARNER,), "Deleted"), Member("t", "T", "", (TEACHER,))))
    assert [m.user_id for m in not_started(roster, ["a"])] == ["b"]
    assert not_started(Roster(error="down"), []) == ()


def _nrps_launch(launch: Launcher, role: str) -> Any:
    def tamper(claims: dict[str, Any]) -> None:
        claims[NRPS] = _claim()
    return launch(role=role, tamper=tamper, custom={"scenario": "territory-rep-300-accounts"})


def test_overview_lists_learners_who_have_not_started(
    launch: Launcher, client: FlaskClient, lms: FakeLms
) -> None:
    learner = _nrps_launch(launch, "learner")  # the launch's page starts user-learner's attempt
    assert learner.status_code == 200, learner.get_data(as_text=True)
    staff = _nrps_launch(launch, "instructor")
    page = html.unescape(client.get(staff.location).get_data(as_text=True))
    assert "Not started yet (2)" in page
    assert "Ann Absent" in page and "Zed Zero" in page
    assert "Bo Gone" not in page and "Tess Teacher" not in page
    assert "roster-notice" not in page


def test_overview_says_attempts_only_when_the_roster_fails(
    launch: Launcher, client: FlaskClient, lms: FakeLms
) -> None:
    lms.fail_with = 500
    staff = _nrps_launch(launch, "instructor")
    response = client.get(staff.location)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Showing attempts only" in page and "HTTP 500" in page


def test_overview_without_roster_service_shows_the_notice(
    launch: Launcher, client: FlaskClient
) -> None:
    staff = launch(role="instructor")
    page = html.unescape(client.get(staff.location).get_data(as_text=True))
    assert "Showing attempts only" in page and "offered no roster service" in page


def test_roster_cache_is_per_registration(app: Flask, lms: FakeLms, platform: PlatformInfo) -> None:
    from lti_tool.platforms import PlatformSpec, add_platform

    with db.database(app).sessions() as session:
        add_platform(session, PlatformSpec(
            issuer=platform.issuer, client_id="second-client", deployment_ids=("d",),
            auth_login_url=f"{platform.issuer}/auth", auth_token_url=f"{platform.issuer}/token",
            key_set_url=None, key_set=platform.keys.jwks()))
        session.commit()
        rows = list(session.scalars(select(PlatformRegistration).order_by(PlatformRegistration.id)))
        session.expunge_all()
    with app.test_request_context():
        fetch_roster(app, rows[0], _claim(), "link-1")
        fetch_roster(app, rows[1], _claim(), "link-1")
    assert len(lms.calls) == 6  # the second registration did not get the first one's roster
