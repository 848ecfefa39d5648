from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PymessConfig(AppConfig):
    name = "pymess"
    verbose_name = _("Messages (pymess)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks and setting_changed receivers.
        from pymess import checks, signals  # noqa: F401
