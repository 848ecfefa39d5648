"""``manage.py cleanup_sms_messages --older-than DAYS``: prune old messages in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pymess.enums import OutputSMSMessageState as State
from pymess.states import SENDABLE_STATES

#: Without ``--state``: everything except messages still queued for sending.
DEFAULT_STATES = tuple(s for s in State.values if s not in SENDABLE_STATES)


class Command(BaseCommand):
    help = (
        "Delete SMS messages (and their related-object rows) created more than DAYS days ago, "
        "in batches. Without --state, messages still queued (WAITING, ERROR_RETRY) are kept; "
        "messages a batch worker holds are always kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            dest="days",
            type=float,
            required=True,
            metavar="DAYS",
            help="Delete messages created more than DAYS days ago (fractions allowed).",
        )
        parser.add_argument(
            "--state",
            dest="states",
            action="append",
            default=None,
            metavar="STATE",
            help=(
                "Only messages in this state; repeat or separate with commas. "
                f"Default: {', '.join(DEFAULT_STATES)}."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Messages deleted per transaction (default 1000).",
        )

    def handle(
        self,
        *args: Any,
        days: float,
        states: list[str] | None,
        dry_run: bool,
        batch_size: int,
        **options: Any,
    ) -> None:
        from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject

        if days < 0:
            raise CommandError("--older-than must be zero or more days.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        chosen = _parse_states(states)
        cutoff = timezone.now() - timedelta(days=days)
        # Never pull a row from under a worker that claimed it.
        condition = Q(created_at__lt=cutoff, state__in=chosen, claim_token__isnull=True)
        described = f"created before {cutoff:%Y-%m-%d %H:%M:%S %Z} in {', '.join(chosen)}"
        verbosity = options["verbosity"]

        if dry_run:
            matching = OutputSMSMessage.objects.filter(condition)
            related = OutputSMSRelatedObject.objects.filter(output_sms_message__in=matching)
            self.stdout.write(
                f"Dry run: would delete {matching.count()} message(s) and {related.count()} "
                f"related object(s) {described}."
            )
            return

        deleted_messages = deleted_related = batches = 0
        related_label = OutputSMSRelatedObject._meta.label
        message_label = OutputSMSMessage._meta.label
        while True:
            pks = list(
                OutputSMSMessage.objects.filter(condition)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            with transaction.atomic():
                # The condition again: a row claimed since we listed it stays.
                _total, per_model = OutputSMSMessage.objects.filter(condition, pk__in=pks).delete()
            batches += 1
            deleted_messages += per_model.get(message_label, 0)
            deleted_related += per_model.get(related_label, 0)
            if verbosity >= 2:
                self.stdout.write(f"batch {batches}: {deleted_messages} message(s) so far")
            if len(pks) < batch_size:
                break
        if verbosity >= 1:
            self.stdout.write(
                f"Deleted {deleted_messages} message(s) and {deleted_related} related object(s) "
                f"{described}, in {batches} batch(es)."
            )


def _parse_states(values: list[str] | None) -> tuple[str, ...]:
    if not values:
        return DEFAULT_STATES
    chosen = [s.strip().upper() for value in values for s in value.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(State.values))
    if unknown:
        raise CommandError(
            f"Unknown state(s) {', '.join(unknown)}; choose from {', '.join(State.values)}."
        )
    return tuple(dict.fromkeys(chosen))
