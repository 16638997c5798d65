"""Signed, expiring launch references: the session after a launch, carried in the page.

Inside an LMS iframe the tool's cookies are third-party cookies that browsers drop, so the
launch is carried in the URL or a hidden form field (pylti1p3's launch-id approach), signed
with the secret key so it cannot be forged, and with an age limit. State-changing forms carry
a second token bound to the same launch id (CSRF protection without cookies).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.errors import CsrfError, LaunchExpired

_LAUNCH_SALT = "coachlab.launch"
_CSRF_SALT = "coachlab.csrf"


@dataclass(frozen=True)
class LaunchRef:
    """Who launched which placement: database ids plus the pylti1p3 launch id."""

    launch_id: str
    registration_id: int
    user_id: int
    link_id: int
    staff: bool
    admin: bool = False
    """An LMS administrator (institution or system role) or on COACHLAB_ADMIN_SUBJECTS."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], salt)


@lru_cache(maxsize=16)
def _serializer_for(secret_key: str | bytes, salt: str) -> URLSafeTimedSerializer:
    # Every player request loads a launch and signs a CSRF token: build each serializer once.
    return URLSafeTimedSerializer(secret_key, salt=salt)


def sign_launch(ref: LaunchRef) -> str:
    """The opaque token to put in URLs and forms."""
    return str(_serializer(_LAUNCH_SALT).dumps(asdict(ref)))


def load_launch(token: str | None) -> LaunchRef:
    """Verify a launch token; LaunchExpired says why it cannot be used."""
    if not token:
        raise LaunchExpired(
            "This page needs a launch from your course; open the activity from the LMS again."
        )
    try:
        data = _serializer(_LAUNCH_SALT).loads(
            token, max_age=current_app.config["LAUNCH_MAX_AGE"]
        )
    except SignatureExpired:
        raise LaunchExpired(
            "This launch is too old; open the activity from your course again."
        ) from None
    except BadSignature:
        raise LaunchExpired(
            "This launch reference is not valid (it was altered or signed by another server); "
            "open the activity from your course again."
        ) from None
    return LaunchRef(**data)


def csrf_token(ref: LaunchRef) -> str:
    """A form token bound to this launch."""
    return str(_serializer(_CSRF_SALT).dumps(ref.launch_id))


def check_csrf(ref: LaunchRef, token: str | None) -> None:
    """Raise CsrfError unless `token` was issued for this launch."""
    try:
        launch_id = _serializer(_CSRF_SALT).loads(
            token or "", max_age=current_app.config["LAUNCH_MAX_AGE"]
        )
    except BadSignature:
        launch_id = None
    if launch_id != ref.launch_id:
        raise CsrfError(
            "This form was not sent from the page of your launch (the CSRF check failed). "
            "Reload the activity from your course and submit again."
        )
