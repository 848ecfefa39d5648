"""The outbox (:class:`OutputSMSMessage`), its related objects, and SMS templates.

The message table is both the record of every SMS and the queue the batch
worker claims from; the ``claim_token`` / ``lease_expires_at`` /
``attempt_started_at`` columns belong to that queue (see :mod:`pymess.outbox`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.template import TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from pymess.enums import OutputSMSMessageState, SMSEncoding
from pymess.templating import compile_template, normalize_locale, render_plain_text

if TYPE_CHECKING:
    from collections.abc import Iterable

TEMPLATE_MODEL_SETTING = "PYMESS_SMS_TEMPLATE_MODEL"
TEMPLATE_MODEL = getattr(settings, TEMPLATE_MODEL_SETTING, "pymess.SMSTemplate")
if not hasattr(settings, TEMPLATE_MODEL_SETTING):
    # Django's swappable machinery (makemigrations) reads the setting itself.
    setattr(settings, TEMPLATE_MODEL_SETTING, TEMPLATE_MODEL)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        abstract = True


class OutputSMSMessage(TimestampedModel):
    """One outgoing SMS: its content, its state, and what the provider said about it."""

    State = OutputSMSMessageState

    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipient = models.CharField(_("recipient"), max_length=20, db_index=True)
    sender = models.CharField(_("sender"), max_length=20, blank=True, default="")
    content = models.TextField(_("content"))
    template_slug = models.SlugField(_("template slug"), max_length=100, blank=True, default="")
    template = models.ForeignKey(
        TEMPLATE_MODEL,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="output_sms_messages",
    )
    locale = models.CharField(_("template locale"), max_length=16, blank=True, default="")
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=OutputSMSMessageState.choices,
        default=OutputSMSMessageState.WAITING,
    )
    backend = models.CharField(_("backend"), max_length=250, blank=True, default="")
    backend_alias = models.CharField(_("backend alias"), max_length=100, default="default")
    error = models.TextField(_("error"), blank=True, default="")
    extra_data = models.JSONField(_("extra data"), default=dict, blank=True)
    extra_sender_data = models.JSONField(_("extra sender data"), default=dict, blank=True)
    tag = models.CharField(_("tag"), max_length=100, blank=True, default="", db_index=True)
    number_of_send_attempts = models.PositiveIntegerField(_("number of send attempts"), default=0)
    retry_sending = models.BooleanField(_("retry sending"), default=True)
    encoding = models.CharField(
        _("encoding"), max_length=8, choices=SMSEncoding.choices, default=SMSEncoding.GSM7
    )
    segments = models.PositiveSmallIntegerField(_("segments"), default=1)
    # NULL, not "": most rows have no provider id yet, and NULLs stay out of lookups.
    external_id = models.CharField(  # noqa: DJ001
        _("provider message id"), max_length=255, null=True, blank=True, db_index=True
    )
    # Queue columns: ordering, scheduling and claims (see pymess.outbox).
    priority = models.SmallIntegerField(_("priority"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(
        _("lease expires at"), null=True, blank=True, editable=False
    )
    attempt_started_at = models.DateTimeField(
        _("attempt started at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("output SMS message")
        verbose_name_plural = _("output SMS messages")
        ordering = ("-created_at", "-pk")
        indexes = [
            # The batch worker's claim: unclaimed sendable rows in priority order. Partial,
            # so it stays as small as the queue however large the history grows.
            models.Index(
                fields=["-priority", "id"],
                condition=models.Q(state__in=["WAITING", "ERROR_RETRY"], claim_token__isnull=True),
                name="pymess_sms_queue_idx",
            ),
            # Claim-guarded writes and lease recovery touch only claimed rows.
            models.Index(
                fields=["claim_token"],
                condition=models.Q(claim_token__isnull=False),
                name="pymess_sms_claim_idx",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(claim_token__isnull=False),
                name="pymess_sms_lease_idx",
            ),
            # State checks: in-flight messages of one backend alias.
            models.Index(fields=["backend_alias", "state"], name="pymess_sms_alias_state_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS #{self.pk} to {self.recipient} ({self.state})"

    @property
    def is_final(self) -> bool:
        from pymess.states import is_final

        return is_final(self.state)


class OutputSMSRelatedObject(TimestampedModel):
    """Any model instance connected to a message, through a generic relation."""

    output_sms_message = models.ForeignKey(
        OutputSMSMessage,
        verbose_name=_("output SMS message"),
        on_delete=models.CASCADE,
        related_name="related_objects",
    )
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("content type of the related object"), on_delete=models.CASCADE
    )
    object_id = models.TextField(_("ID of the related object"))
    content_object = GenericForeignKey("content_type", "object_id")

    class Meta:
        verbose_name = _("related object of an output SMS")
        verbose_name_plural = _("related objects of output SMS messages")
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"{self.content_type.app_label}.{self.content_type.model} #{self.object_id}"


class AbstractSMSTemplate(TimestampedModel):
    """An SMS body rendered with Django's template language, looked up by slug and locale.

    Extend it and point ``PYMESS_SMS_TEMPLATE_MODEL`` at your model to add fields
    or override :meth:`can_send`.
    """

    slug = models.SlugField(_("slug"), max_length=100)
    locale = models.CharField(
        _("locale"),
        max_length=16,
        blank=True,
        default="",
        help_text=_("Language code such as cs or cs-cz; empty for the fallback template."),
    )
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        abstract = True
        ordering = ("slug", "locale")
        constraints = [
            models.UniqueConstraint(fields=["slug", "locale"], name="%(app_label)s_%(class)s_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.slug} [{self.locale}]" if self.locale else self.slug

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A template that cannot render is rejected here rather than at send time.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.locale = normalize_locale(self.locale)
        try:
            compile_template(self.body)
        except TemplateSyntaxError as exc:
            raise ValidationError({"body": _("Template syntax error: %s") % exc}) from exc

    def get_body(self) -> str:
        """The template source; override to adjust it before rendering."""
        return self.body

    def render_body(self, context_data: dict[str, Any] | None) -> str:
        """Render the body as plain text (no HTML escaping: an SMS is not HTML)."""
        return render_plain_text(self.get_body(), context_data or {})

    def can_send(self, recipient: str, context_data: dict[str, Any] | None) -> bool:
        """Whether this template may be sent; ``is_active`` by default."""
        return self.is_active

    def send(
        self,
        recipient: str,
        context_data: dict[str, Any] | None,
        related_objects: Iterable[models.Model] | None = None,
        tag: str | None = None,
        send_immediately: bool = False,
        **kwargs: Any,
    ) -> OutputSMSMessage | None:
        """Render and send this template; ``None`` (nothing stored) if :meth:`can_send` says no."""
        from pymess.backend.sms import send_rendered_template

        return send_rendered_template(
            self,
            recipient,
            context_data,
            related_objects=related_objects,
            tag=tag,
            send_immediately=send_immediately,
            **kwargs,
        )


class SMSTemplate(AbstractSMSTemplate):
    """The default template model."""

    class Meta(AbstractSMSTemplate.Meta):
        swappable = TEMPLATE_MODEL_SETTING
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
