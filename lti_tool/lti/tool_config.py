"""A database-backed pylti1p3 tool configuration (the shape of pylti1p3's DjangoDbToolConf).

pylti1p3 declares its abstract methods under a Python 2 `__metaclass__`, so nothing forces a
subclass to implement them; tests/lti_tool/test_tool_config.py checks that every one is here.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


class DbToolConf(ToolConfAbstract[FlaskRequest]):
    """Registrations and deployments read from the database on every login and launch."""

    def __init__(self, session: Session, tool_keys: KeyPair) -> None:
        super().__init__()
        # The base class keeps this mapping on the class, shared by every instance; ours is
        # per instance and unused because one issuer may always have many client ids.
        self.issuers_relation_types = {}
        self._session = session
        self._tool_keys = tool_keys
        self._own_listed: set[tuple[int, str]] = set()

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: registrations are looked up by issuer and client id together."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always: an issuer (e.g. one Canvas) may hold several developer keys."""
        return True

    def _rows(self, iss: str, deployment_id: str | None = None) -> list[PlatformRegistration]:
        """The issuer's registrations, read once per request (a launch asks four times);
        with the launch's deployment id, whether each lists it comes in the same statement."""
        memo: dict[str, list[PlatformRegistration]] | None = None
        if has_app_context():
            memo = g.setdefault("coachlab_registrations", {})
        if memo is not None and iss in memo:
            return memo[iss]
        if deployment_id:
            found = self._session.execute(
                _REGISTRATIONS_WITH_DEPLOYMENT, {"iss": iss, "deployment_id": deployment_id}
            ).all()
            rows = list(dict.fromkeys(row[0] for row in found))
            self._listed.update((row[0].id, deployment_id) for row in found
                                if row[1] is not None)
        else:
            rows = list(self._session.scalars(_REGISTRATIONS, {"iss": iss}).all())
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
    ) -> PlatformRegistration:
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

    def to_registration(self, row: PlatformRegistration) -> Registration:
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

    def _deployment(self, row: PlatformRegistration, deployment_id: str) -> LtiDeployment | None:
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
        return self._session.scalar(
            _DEPLOYMENT, {"registration_id": registration_id, "deployment_id": deployment_id}
        ) is not None

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
