"""The one module that talks to LTI Assignment and Grade Services (AGS).

For now the score leaves synchronously right after the result is committed; a failure is
recorded on the attempt and never breaks the learner's page. (A later issue replaces this
call with a transactional outbox and a delivery worker.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import requests
from flask import current_app
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy.orm import Session

from lti_tool.cache import get_cache
from lti_tool.lti.launch import http_session, tool_keys
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import Attempt, PlatformRegistration

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
TOKEN_CACHE_SECONDS = 300
"""Platforms issue AGS tokens for an hour; reuse ours for five minutes, safely inside that."""


class CachedTokenServiceConnector(ServiceConnector):
    """pylti1p3 keeps access tokens for one request only; keep them in the shared cache."""

    def get_access_token(self, scopes: Sequence[str]) -> str:
        """A cached token for these scopes, else a new one from the platform."""
        registration = self._registration
        key = "ags-token-" + hashlib.sha256(
            "|".join(
                [str(registration.get_issuer()), str(registration.get_client_id()),
                 *sorted(scopes)]
            ).encode()
        ).hexdigest()
        cache = get_cache()
        token = cache.get(key)
        if token:
            return str(token)
        token = super().get_access_token(scopes)
        cache.set(key, token, TOKEN_CACHE_SECONDS)
        return str(token)


def _registration(session: Session, registration_id: int) -> Registration:
    row = session.get(PlatformRegistration, registration_id)
    if row is None:
        raise LtiException(f"registration {registration_id} was removed")
    return DbToolConf(session, tool_keys()).to_registration(row)


def send_attempt_score(session: Session, attempt: Attempt) -> None:
    """Send the attempt's score to the LMS gradebook; record the outcome on the attempt."""
    link = attempt.resource_link
    endpoint = link.ags_endpoint or {}
    if attempt.score is None or not endpoint.get("lineitem") or SCORE_SCOPE not in endpoint.get(
        "scope", []
    ):
        attempt.grade_sync_status = "not_available"
        session.commit()
        return
    points = float(link.settings.get("points") or current_app.config["POINTS"])
    grade = (
        Grade()
        .set_score_given(round(attempt.score * points, 2))
        .set_score_maximum(points)
        .set_timestamp((attempt.graded_at or attempt.created_at).isoformat())
        .set_activity_progress("Completed")
        .set_grading_progress(
            "PendingManual" if attempt.status == "needs_review" else "FullyGraded"
        )
        .set_user_id(attempt.user.subject)
    )
    try:
        connector = CachedTokenServiceConnector(
            _registration(session, link.registration_id), http_session()
        )
        AssignmentsGradesService(connector, endpoint).put_grade(grade)  # type: ignore[arg-type]
    except (LtiException, requests.RequestException, ValueError, KeyError) as error:
        attempt.grade_sync_status = "failed"
        attempt.grade_sync_error = f"{type(error).__name__}: {error}"[:2000]
        current_app.logger.warning("AGS score for attempt %s failed: %s", attempt.id, error)
    else:
        attempt.grade_sync_status = "sent"
        attempt.grade_sync_error = None
    session.commit()
