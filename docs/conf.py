"""Sphinx configuration for the pymess documentation.

Built with warnings as errors: ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
Django is configured with the test suite's settings so that autodoc can import
pymess modules (the hooks reference is generated from ``pymess.hookspecs``).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import pymess  # noqa: E402

project = "pymess"
author = "pymess maintainers"
copyright = "pymess maintainers"
release = pymess.__version__
version = ".".join(release.split(".")[:2])

# Code examples are executed by tests/test_docs.py (they need a database); the
# doctest extension is loaded only so that `-b doctest` runs, testing nothing twice.
extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest"]
doctest_test_doctest_blocks = ""
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"pymess {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
default_role = "literal"


# The provider pages (backends/sns.rst, twilio.rst, ats.rst, sms_operator.rst) are
# written together with the provider distributions. So that the docs also build
# on a branch that lacks some of them, missing ones are dropped from the backends
# toctree at read time; tests/test_docs.py checks that all of them exist.
PROVIDER_PAGES = ("sns", "twilio", "ats", "sms_operator")


def _drop_missing_provider_pages(app, docname, source):
    if docname != "backends/index":
        return
    for page in PROVIDER_PAGES:
        if not (Path(app.srcdir) / "backends" / f"{page}.rst").exists():
            source[0] = source[0].replace(f"\n   {page}\n", "\n")


def _reread_backends_index(app, env, added, changed, removed):
    # The pages present may change without backends/index.rst changing.
    return ["backends/index"]


def setup(app):
    app.connect("source-read", _drop_missing_provider_pages)
    app.connect("env-get-outdated", _reread_backends_index)
