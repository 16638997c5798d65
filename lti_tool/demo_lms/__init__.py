"""A built-in demo LMS: a real LTI 1.3 platform inside the dev server (demo mode only).

It has its own RSA key, an OIDC auth endpoint that checks the login hint and redirect_uri and
form-posts a signed id_token (roles, context, resource link, custom scenario, AGS and NRPS
claims), a token endpoint for the tool's AGS calls, an AGS score endpoint that records what it
receives, a Deep Linking return endpoint that verifies the tool's signed content items and
adds them to the course, and a home page to launch as a learner or an instructor inside an
iframe.
It lets anyone launch as anyone: the app factory refuses it in production.
"""

from lti_tool.demo_lms.platform import register_demo_platform
from lti_tool.demo_lms.views import bp

__all__ = ["bp", "register_demo_platform"]
