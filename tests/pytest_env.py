"""Loaded with `-p` before pytest-django reads the settings (see pyproject.toml).

Tests run with development settings (no HTTPS redirect, static files from the
app folders); pytest-django still forces DEBUG off at run time.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SITE_URL", "http://testserver")
