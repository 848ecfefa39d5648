"""``manage.py bulk_check_sms_states``: ask polling providers about messages in flight."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pymess import config

logger = logging.getLogger("pymess.commands")


class Command(BaseCommand):
    help = "Update the state of sent SMS messages from providers that can be polled."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend", dest="alias", default=None, help="Only this backend alias."
        )

    def handle(self, *args: Any, alias: str | None, **options: Any) -> None:
        from pymess.backend.sms.registry import get_backend

        aliases = [alias] if alias else list(config.sms_backends())
        verbosity = options["verbosity"]
        failed = []
        for name in aliases:
            backend = get_backend(name)
            if not backend.supports_state_polling:
                if verbosity >= 1:
                    self.stdout.write(
                        f"{name}: {type(backend).__name__} cannot poll states; skipped."
                    )
                continue
            try:
                changed = backend.bulk_check_sms_states()
            except Exception:
                # One failing provider must not stop the others.
                logger.exception("State check failed for backend alias %r", name)
                failed.append(name)
                continue
            if verbosity >= 1:
                self.stdout.write(f"{name}: {changed} message state(s) updated.")
        if failed:
            self.stderr.write(f"State check failed for: {', '.join(failed)} (see the log).")
