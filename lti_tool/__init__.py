"""The Flask application: LTI 1.3, persistence, views, CLI and grade sync."""
