"""A project that swaps in its own SMS template model."""

import os

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_template"]  # noqa: F405
PYMESS_SMS_TEMPLATE_MODEL = "custom_template.BrandedTemplate"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PYMESS_CUSTOM_TEMPLATE_DB", ":memory:"),
    }
}
