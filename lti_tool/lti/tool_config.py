"""A database-backed pylti1p3 tool configuration (the shape of pylti1p3's DjangoDbToolConf).

pylti1p3 declares its abstract methods under a Python 2 `__metaclass__`, so nothing forces a
subclass to implement them; tests/lti_tool/test_tool_config.py checks that every one is here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import and_, bindparam, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.errors import LaunchRejected
from lti_tool.keys import KeyPair
from lti_tool.lti.claims import DEPLOYMENT_ID as DEPLOYMENT_CLAIM
from lti_tool.models import Deployment, PlatformRegistration

# Built once: composing ORM expressions costs more per launch than running them.
_REGISTRATIONS = select(PlatformRegistration).where(
    PlatformRegistration.issuer == bindparam("iss"))
_REGISTRATIONS_WITH_DEPLOYMENT = (
    select(PlatformRegistration, Deployment.id)
    .outerjoin(Deployment, and_(Deployment.registration_id == PlatformRegistration.id,
                                Deployment.deployment_id == bindparam("deployment_id")))
    .where(PlatformRegistration.issuer == bindparam("iss"))
)
_DEPLOYMENT = select(Deployment.id).where(
    Deployment.registration_id == bindparam("registration_id"),
    Deployment.deployment_id == bindparam("deployment_id"))


@dataclass(frozen=True)
class RegistrationInfo:
    """A platform registration as read (a value: shared between requests and threads)."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None
    key_set: dict[str, Any] | None
    audience: str | None
    allow_any_deployment: bool

    @classmethod
    def of(cls, row: PlatformRegistration) -> RegistrationInfo:
        return cls(id=row.id, issuer=row.issuer, client_id=row.client_id,
                   auth_login_url=row.auth_login_url, auth_token_url=row.auth_token_url,
                   key_set_url=row.key_set_url,
                   key_set=dict(row.key_set) if row.key_set is not None else None,
                   audience=row.audience, allow_any_deployment=row.allow_any_deployment)


class RegistrationCache:
    """Registrations by issuer, and the deployment ids found listed, kept in this process
    for `lifetime` seconds: every login and launch looks its platform up, and registrations
    change a few times a year. Writes in this process clear it (install() hooks the app's
    sessions); a change made by another process (the CLI, another worker or host) reaches
    this one within `lifetime`. Unknown issuers are never kept, so a platform added
    elsewhere launches at once. lifetime 0 switches the cache off."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._issuers: dict[str, tuple[float, tuple[RegistrationInfo, ...]]] = {}
        self._listed: dict[tuple[int, str], float] = {}

    def rows(self, iss: str) -> tuple[RegistrationInfo, ...] | None:
        """The issuer's registrations while fresh, else None."""
        found = self._issuers.get(iss)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def keep(self, iss: str, rows: tuple[RegistrationInfo, ...]) -> None:
        if self.lifetime > 0 and rows:
            with self._lock:
                self._issuers[iss] = (time.monotonic() + self.lifetime, rows)

    def listed(self, registration_id: int, deployment_id: str) -> bool:
        """True when the deployment was found listed under the registration lately."""
        expires = self._listed.get((registration_id, deployment_id))
        return expires is not None and expires >= time.monotonic()

    def keep_listed(self, registration_id: int, deployment_id: str) -> None:
        if self.lifetime > 0:
            with self._lock:
                if len(self._listed) > 100_000:  # a long-lived trusted registration
                    self._listed.clear()
                self._listed[(registration_id, deployment_id)] = (
                    time.monotonic() + self.lifetime)

    def clear(self) -> None:
        with self._lock:
            self._issuers.clear()
            self._listed.clear()

    def install(self, sessions: sessionmaker[Session]) -> None:
        """Clear this cache when a session of `sessions` commits a change to a registration
        or a deployment (also at the flush, so a concurrent read cannot keep the old rows
        for long: it is cleared again at the commit)."""
        def flushed(session: Session, _context: Any) -> None:
            changed = (*session.new, *session.dirty, *session.deleted)
            if any(isinstance(row, PlatformRegistration | Deployment) for row in changed):
                session.info["coachlab_registrations_changed"] = True
                self.clear()

        def committed(session: Session) -> None:
            if session.info.pop("coachlab_registrations_changed", False):
                self.clear()

        event.listen(sessions, "after_flush", flushed)
        event.listen(sessions, "after_commit", committed)


class DbToolConf(ToolConfAbstract[FlaskRequest]):
    """Registrations and deployments read from the database (through the app's
    RegistrationCache) on every login and launch."""

    def __init__(self, session: Session, tool_keys: KeyPair,
                 cache: RegistrationCache | None = None) -> None:
        super().__init__()
        # The base class keeps this mapping on the class, shared by every instance; ours is
        # per instance and unused because one issuer may always have many client ids.
        self.issuers_relation_types = {}
        self._session = session
        self._tool_keys = tool_keys
        self._cache = cache if cache is not None else RegistrationCache(0)
        self._own_listed: set[tuple[int, str]] = set()

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: registrations are looked up by issuer and client id together."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always: an issuer (e.g. one Canvas) may hold several developer keys."""
        return True

    def _rows(self, iss: str, deployment_id: str | None = None) -> tuple[RegistrationInfo, ...]:
        """The issuer's registrations, from the cache or read once per request (a launch
        asks four times); with the launch's deployment id, whether each lists it comes in
        the same statement."""
        memo: dict[str, tuple[RegistrationInfo, ...]] | None = None
        if has_app_context():
            # security.set_headers frames the platforms a login or launch read here.
            memo = g.setdefault("coachlab_registrations", {})
        if memo is not None and iss in memo:
            return memo[iss]
        cached = self._cache.rows(iss)
        if cached is not None:
            listed = {(row.id, deployment_id) for row in cached
                      if deployment_id and self._cache.listed(row.id, deployment_id)}
            # A deployment the cache has not seen listed is asked of the database.
            if not deployment_id or listed:
                self._listed.update(listed)
                if memo is not None:
                    memo[iss] = cached
                return cached
        if deployment_id:
            found = self._session.execute(
                _REGISTRATIONS_WITH_DEPLOYMENT, {"iss": iss, "deployment_id": deployment_id}
            ).all()
            rows = tuple({row[0].id: RegistrationInfo.of(row[0]) for row in found}.values())
            for row in found:
                if row[1] is not None:
                    self._listed.add((row[0].id, deployment_id))
                    self._cache.keep_listed(row[0].id, deployment_id)
        else:
            rows = tuple(RegistrationInfo.of(row)
                         for row in self._session.scalars(_REGISTRATIONS, {"iss": iss}))
        self._cache.keep(iss, rows)
        if memo is not None:
            memo[iss] = rows
        return rows

    @property
    def _listed(self) -> set[tuple[int, str]]:
        """(registration id, deployment id) pairs this request found listed."""
        if has_app_context():
            listed: set[tuple[int, str]] = g.setdefault("coachlab_listed_deployments", set())
            return listed
        return self._own_listed

    def find_registration_row(
        self, iss: str, client_id: str | None, deployment_id: str | None = None
    ) -> RegistrationInfo:
        """The stored registration; LaunchRejected names an unknown issuer or client id."""
        rows = self._rows(iss, deployment_id)
        if not rows:
            raise LaunchRejected(
                f"Unknown issuer: the platform {iss!r} is not registered with this tool. An "
                "administrator registers it with `coachlab platform add --issuer ...`."
            )
        if client_id is None:
            if len(rows) == 1:
                return rows[0]
            raise LaunchRejected(
                f"The platform {iss!r} has several client ids registered here but the login "
                "request named none; the LMS must send client_id."
            )
        for row in rows:
            if row.client_id == client_id:
                return row
        raise LaunchRejected(
            f"Wrong audience: the token is for client id {client_id!r}, which is not registered "
            f"for the platform {iss!r}. Check the client id in `coachlab platform list`."
        )

    def to_registration(self, row: RegistrationInfo | PlatformRegistration) -> Registration:
        """A pylti1p3 Registration carrying this tool's key pair."""
        registration = (
            Registration()
            .set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url)
            .set_auth_token_url(row.auth_token_url)
            .set_key_set(row.key_set)  # type: ignore[arg-type]
            .set_key_set_url(row.key_set_url)
            .set_tool_private_key(self._tool_keys.private_pem)
            .set_tool_public_key(self._tool_keys.public_pem)
        )
        if row.audience:
            registration.set_auth_audience(row.audience)
        return registration

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """The registration of an issuer with exactly one client id."""
        return self.to_registration(self.find_registration_row(iss, None))

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration:
        """The registration for this issuer and client id (the token's audience)."""
        body = kwargs.get("jwt_body")
        deployment_id = body.get(DEPLOYMENT_CLAIM) if isinstance(body, dict) else None
        return self.to_registration(self.find_registration_row(
            iss, client_id, deployment_id if isinstance(deployment_id, str) else None))

    def _deployment(self, row: RegistrationInfo, deployment_id: str) -> LtiDeployment | None:
        found = self._find_deployment(row.id, deployment_id)
        if not found and row.allow_any_deployment and deployment_id:
            # A trusted registration: a new course placement brings a new deployment id;
            # record it so admins can see and later restrict the list. It commits on its own
            # connection: two first launches into the same new course race, and the loser of
            # the insert must read the winner's row instead of failing with a 500.
            with Session(bind=self._session.get_bind()) as own:
                own.add(Deployment(registration_id=row.id, deployment_id=deployment_id))
                try:
                    own.commit()
                except IntegrityError:
                    own.rollback()
            found = self._find_deployment(row.id, deployment_id)
        return LtiDeployment().set_deployment_id(deployment_id) if found else None

    def _find_deployment(self, registration_id: int, deployment_id: str) -> bool:
        if (registration_id, deployment_id) in self._listed:
            return True  # read with the registration in this request
        if self._cache.listed(registration_id, deployment_id):
            return True
        found = self._session.scalar(
            _DEPLOYMENT, {"registration_id": registration_id, "deployment_id": deployment_id}
        ) is not None
        if found:
            self._cache.keep_listed(registration_id, deployment_id)
        return found

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        """The deployment of an issuer with exactly one client id, or None."""
        return self._deployment(self.find_registration_row(iss, None), deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        """The deployment with this id under (issuer, client id), or None (pylti1p3 rejects)."""
        return self._deployment(self.find_registration_row(iss, client_id), deployment_id)

    def get_jwks(
        self, iss: str | None = None, client_id: str | None = None, **kwargs: Any
    ) -> dict[str, list[dict[str, Any]]]:
        """The tool's public key set: already {"keys": [...]}, serve it as is."""
        return self._tool_keys.jwks()
