"""The pure core must never load the web, database or LTI stacks."""

from __future__ import annotations

import subprocess
import sys


def test_core_packages_do_not_import_web_db_or_lti() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "for pkg in ('course', 'scenarios', 'graders'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'pylti1p3', 'lti_tool'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"core packages loaded: {out}"
