"""Django admin for the outbox and for SMS templates.

Messages are a record: the detail page is read-only, nothing can be added or
deleted here (``cleanup_sms_messages`` prunes old rows). Operators get two
actions, both going through :mod:`pymess.states` so the state-updated hook
fires: re-queue failed messages and cancel waiting ones.

Templates get a form with a server-rendered preview and a live segment and
encoding counter. :class:`SMSTemplateAdmin` is registered for the default
``pymess.SMSTemplate``; with a custom ``PYMESS_SMS_TEMPLATE_MODEL`` register it
(or a subclass) for your model yourself.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import TemplateSyntaxError
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from pymess import config
from pymess.content import to_ascii
from pymess.encoding import _LIMITS, GSM7_BASIC, GSM7_EXTENSION, analyse
from pymess.enums import OutputSMSMessageState as State
from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject, SMSTemplate
from pymess.states import StateUpdate, apply_state_updates

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

#: States an operator may send again.
REQUEUE_STATES = (State.ERROR, State.ERROR_RETRY, State.UNKNOWN)
#: States an operator may cancel (the message has not left yet).
CANCEL_STATES = (State.WAITING, State.ERROR_RETRY)
#: Rows handled per round by the operator actions (one claim, one set-based update).
ACTION_CHUNK_SIZE = 500

_CLAIM_CLEARED = {"claim_token": None, "lease_expires_at": None, "attempt_started_at": None}


# -- operator actions as a small Python API ---------------------------------------------------


@dataclass
class ActionResult:
    """What an operator action did: ``changed`` messages, and those it left alone and why."""

    changed: list[OutputSMSMessage]
    wrong_state: int = 0
    held_by_worker: int = 0


def _free_of_workers(now: datetime) -> Q:
    """Rows no worker holds: unclaimed, or claimed by a worker that vanished before calling out.

    A row with an expired lease whose attempt had started may have reached the
    provider; lease recovery turns it ``UNKNOWN`` first, then it may be re-queued.
    """
    return Q(claim_token__isnull=True) | Q(
        lease_expires_at__lt=now, attempt_started_at__isnull=True
    )


def _apply_to_selection(
    pks: list[int],
    from_states: tuple[str, ...],
    build: Callable[[OutputSMSMessage], tuple[str, dict[str, Any]]],
    *,
    force: bool,
) -> ActionResult:
    """Claim the selected rows like a worker does, change them guarded by that claim, release.

    Claiming first is what makes the action safe next to running workers: a row a
    worker claims meanwhile is not ours, and a row we claimed is not the worker's.
    """
    result = ActionResult(changed=[])
    for start in range(0, len(pks), ACTION_CHUNK_SIZE):
        chunk = pks[start : start + ACTION_CHUNK_SIZE]
        now = timezone.now()
        token = uuid.uuid4()
        in_state = OutputSMSMessage.objects.filter(pk__in=chunk, state__in=from_states)
        claimed = in_state.filter(_free_of_workers(now)).update(
            claim_token=token, lease_expires_at=now + timedelta(seconds=config.lease_seconds())
        )
        eligible = in_state.count() if claimed < len(chunk) else claimed
        result.wrong_state += len(chunk) - eligible
        result.held_by_worker += eligible - claimed
        if not claimed:
            continue
        rows = list(OutputSMSMessage.objects.filter(claim_token=token).order_by("pk"))
        updates = []
        for message in rows:
            state, fields = build(message)
            updates.append(StateUpdate(message, state, {**fields, **_CLAIM_CLEARED}))
        changed = apply_state_updates(updates, claim_token=token, force=force)
        result.changed.extend(update.message for update in changed)
        # Rows another writer changed between our claim and our update: give them back.
        OutputSMSMessage.objects.filter(claim_token=token).update(**_CLAIM_CLEARED)
    return result


def requeue_messages(pks: list[int]) -> ActionResult:
    """Put failed messages (``ERROR``, ``ERROR_RETRY``, ``UNKNOWN``) back to ``WAITING``.

    The error is cleared and the message is due at once. ``number_of_send_attempts``
    is kept: it counts real provider calls (an ``UNKNOWN`` message may already have
    been delivered once), so a re-queued message gets one more attempt, and further
    automatic retries only while ``PYMESS_SMS_RETRY_MAX_ATTEMPTS`` allows. Rows a
    worker is handling are skipped.
    """
    from pymess.dispatch import message_queued

    result = _apply_to_selection(
        pks,
        REQUEUE_STATES,
        lambda m: (State.WAITING, {"error": "", "next_attempt_at": None}),
        force=True,  # WAITING is "backwards" from every failed state: an operator may do that.
    )
    for message in result.changed:
        message_queued(message)
    return result


def cancel_messages(pks: list[int], cancelled_by: str) -> ActionResult:
    """Stop messages that have not left (``WAITING``, ``ERROR_RETRY``): they end in ``ERROR``."""
    reason = f"Cancelled by {cancelled_by}" if cancelled_by else "Cancelled"
    return _apply_to_selection(
        pks,
        CANCEL_STATES,
        lambda m: (State.ERROR, {"error": reason, "next_attempt_at": None}),
        force=False,
    )


# -- messages ---------------------------------------------------------------------------------


class OutputSMSRelatedObjectInline(admin.TabularInline):
    """The objects a message was sent about, read-only, each linked to its own admin page."""

    model = OutputSMSRelatedObject
    fields = ("content_type", "object_id", "related_object")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name = _("related object")
    verbose_name_plural = _("related objects")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutputSMSRelatedObject]:
        # Inline instances are built per request, so per-request state is safe here.
        self._request = request
        self._targets: dict[tuple[int, str], models.Model] | None = None
        return super().get_queryset(request).select_related("content_type")

    @admin.display(description=_("object"))
    def related_object(self, obj: OutputSMSRelatedObject) -> str:
        target = self._load_targets(obj.output_sms_message_id).get(
            (obj.content_type_id, obj.object_id)
        )
        if target is None:
            return gettext("(deleted or unknown)")
        url = _admin_change_url(self.admin_site, self._request, target)
        return format_html('<a href="{}">{}</a>', url, target) if url else str(target)

    def _load_targets(self, message_id: int) -> dict[tuple[int, str], models.Model]:
        """All targets of the message's related objects: one query per content type."""
        if self._targets is not None:
            return self._targets
        wanted: dict[int, list[str]] = {}
        for ct_id, object_id in OutputSMSRelatedObject.objects.filter(
            output_sms_message_id=message_id
        ).values_list("content_type_id", "object_id"):
            wanted.setdefault(ct_id, []).append(object_id)
        self._targets = {}
        for ct_id, object_ids in wanted.items():
            model = ContentType.objects.get_for_id(ct_id).model_class()
            if model is None:  # the model no longer exists
                continue
            pks = []
            for object_id in object_ids:
                try:
                    pks.append(model._meta.pk.to_python(object_id))
                except Exception:  # an id this model cannot hold: shown as unknown
                    continue
            for target in model._base_manager.filter(pk__in=pks):
                self._targets[(ct_id, str(target.pk))] = target
        return self._targets


def _admin_change_url(site: admin.AdminSite, request: HttpRequest, obj: models.Model) -> str:
    """The admin URL of ``obj`` if its model is registered and the user may view it, else ""."""
    model = type(obj)
    if not site.is_registered(model):
        return ""
    if not site.get_model_admin(model).has_view_or_change_permission(request, obj):
        return ""
    opts = model._meta
    try:
        return reverse(
            f"{site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(obj.pk)],
            current_app=site.name,
        )
    except NoReverseMatch:
        return ""


@admin.register(OutputSMSMessage)
class OutputSMSMessageAdmin(admin.ModelAdmin):
    """The outbox: searchable, filterable, read-only, with the two operator actions."""

    list_display = (
        "id",
        "created_at",
        "recipient",
        "state",
        "tag",
        "backend_alias",
        "encoding",
        "segments",
        "template_label",
        "related_summary",
    )
    list_display_links = ("id", "recipient")
    list_filter = ("state", "backend", "backend_alias", "tag", "created_at", "encoding")
    search_fields = ("recipient", "tag")
    list_select_related = ("template",)
    # The outbox can hold millions of rows: skip the unfiltered COUNT on every page.
    show_full_result_count = False
    list_per_page = 50
    actions = ("requeue_failed", "cancel_waiting")
    inlines = (OutputSMSRelatedObjectInline,)
    fieldsets = (
        (None, {"fields": ("recipient", "sender", "content", "state", "error", "tag")}),
        (
            _("Content"),
            {"fields": ("encoding", "segments", "template", "template_slug", "locale")},
        ),
        (
            _("Provider"),
            {
                "fields": (
                    "backend",
                    "backend_alias",
                    "external_id",
                    "sent_at",
                    "number_of_send_attempts",
                    "retry_sending",
                    "extra_sender_data_display",
                )
            },
        ),
        (_("Extra data"), {"fields": ("extra_data_display",)}),
        (
            _("Queue"),
            {
                "classes": ("collapse",),
                "fields": (
                    "priority",
                    "next_attempt_at",
                    "expires_at",
                    "claim_display",
                    "created_at",
                    "changed_at",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [f.name for f in self.model._meta.concrete_fields]
        return [*names, "extra_data_display", "extra_sender_data_display", "claim_display"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutputSMSMessage]:
        related = OutputSMSRelatedObject.objects.select_related("content_type").order_by("pk")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("related_objects", queryset=related))
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutputSMSMessage], search_term: str
    ) -> tuple[QuerySet[OutputSMSMessage], bool]:
        """Also find ``777 123 456`` or ``+420 777-123-456`` as the stored ``+420777123456``."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        normalized = _as_e164(search_term)
        if normalized:
            results = results | queryset.filter(recipient=normalized)
        return results, may_have_duplicates

    # Messages are a record: nothing is added, edited or deleted by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Without an object Django asks about the list (and its actions): the user's own right.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # -- columns and read-only fields

    @admin.display(description=_("template"), ordering="template_slug")
    def template_label(self, obj: OutputSMSMessage) -> str:
        if not obj.template_slug:
            return "-"
        return f"{obj.template_slug} [{obj.locale}]" if obj.locale else obj.template_slug

    @admin.display(description=_("related objects"))
    def related_summary(self, obj: OutputSMSMessage) -> str:
        # Built from the prefetched rows: no query per message.
        rows = list(obj.related_objects.all())
        if not rows:
            return "-"
        return ", ".join(
            f"{r.content_type.app_label}.{r.content_type.model} #{r.object_id}" for r in rows
        )

    @admin.display(description=_("extra data"))
    def extra_data_display(self, obj: OutputSMSMessage) -> str:
        return _pretty_json(obj.extra_data)

    @admin.display(description=_("extra sender data"))
    def extra_sender_data_display(self, obj: OutputSMSMessage) -> str:
        return _pretty_json(obj.extra_sender_data)

    @admin.display(description=_("claimed by a worker"))
    def claim_display(self, obj: OutputSMSMessage) -> str:
        if obj.claim_token is None:
            return gettext("no")
        started = (
            gettext("provider call started %(at)s") % {"at": obj.attempt_started_at}
            if obj.attempt_started_at
            else gettext("not started")
        )
        return gettext("claim %(token)s until %(until)s, %(started)s") % {
            "token": obj.claim_token,
            "until": obj.lease_expires_at,
            "started": started,
        }

    # -- actions

    @admin.action(
        description=_("Re-queue failed messages (ERROR, ERROR_RETRY, UNKNOWN → WAITING)"),
        permissions=("change",),
    )
    def requeue_failed(self, request: HttpRequest, queryset: QuerySet[OutputSMSMessage]) -> None:
        pks = list(queryset.prefetch_related(None).order_by().values_list("pk", flat=True))
        result = requeue_messages(pks)
        self._log(request, result.changed, "Re-queued (state → WAITING).")
        self._report(request, result, gettext("Re-queued"), REQUEUE_STATES)

    @admin.action(
        description=_("Cancel waiting messages (WAITING, ERROR_RETRY → ERROR)"),
        permissions=("change",),
    )
    def cancel_waiting(self, request: HttpRequest, queryset: QuerySet[OutputSMSMessage]) -> None:
        pks = list(queryset.prefetch_related(None).order_by().values_list("pk", flat=True))
        result = cancel_messages(pks, _user_label(request.user))
        self._log(request, result.changed, "Cancelled (state → ERROR).")
        self._report(request, result, gettext("Cancelled"), CANCEL_STATES)

    def _log(self, request: HttpRequest, changed: list[OutputSMSMessage], text: str) -> None:
        if not changed or request.user.pk is None:
            return
        content_type = ContentType.objects.get_for_model(self.model)
        LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type=content_type,
                object_id=str(message.pk),
                object_repr=str(message)[:200],
                action_flag=CHANGE,
                change_message=json.dumps([{"changed": {"fields": ["state"]}}, text]),
            )
            for message in changed
        )

    def _report(
        self, request: HttpRequest, result: ActionResult, verb: str, states: tuple[str, ...]
    ) -> None:
        count = len(result.changed)
        self.message_user(
            request,
            ngettext("%(verb)s %(count)d message.", "%(verb)s %(count)d messages.", count)
            % {"verb": verb, "count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
        if result.wrong_state:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d message not in %(states)s.",
                    "Skipped %(count)d messages not in %(states)s.",
                    result.wrong_state,
                )
                % {"count": result.wrong_state, "states": ", ".join(states)},
                messages.WARNING,
            )
        if result.held_by_worker:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d message a batch worker is sending right now.",
                    "Skipped %(count)d messages a batch worker is sending right now.",
                    result.held_by_worker,
                )
                % {"count": result.held_by_worker},
                messages.WARNING,
            )


def _pretty_json(value: Any) -> str:
    if not value:
        return "-"
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    )


def _as_e164(term: str) -> str:
    """``term`` as an E.164 number when it reads as one, else ``""``."""
    term = term.strip()
    if not term or not re.fullmatch(r"[+\d][\d\s().\-/]{5,}", term):
        return ""
    try:
        number = phonenumbers.parse(term, config.default_region())
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _user_label(user: AbstractBaseUser | AnonymousUser) -> str:
    return str(user.get_username()) if user.is_authenticated else ""


# -- templates --------------------------------------------------------------------------------

_VARIABLE = re.compile(r"{{\s*([A-Za-z_]\w*)")


def sample_context_for(body: str) -> dict[str, str]:
    """A starting sample context: each top-level variable of ``body`` mapped to its own name."""
    return {name: name for name in dict.fromkeys(_VARIABLE.findall(body or ""))}


def preview(template: models.Model, body: str, context_data: dict[str, Any]) -> dict[str, Any]:
    """Render ``body`` as ``template`` would and measure it as ``send()`` will store it.

    ``template`` is an instance of the template model (its ``render_body`` is
    used, so custom models render their way); it is not saved.
    """
    template.body = body  # type: ignore[attr-defined]
    try:
        text = template.render_body(context_data)  # type: ignore[attr-defined]
    except TemplateSyntaxError as exc:
        return {"ok": False, "error": f"Template syntax error: {exc}"}
    except Exception as exc:  # whatever the template raises, the editor sees it
        return {"ok": False, "error": f"The template cannot be rendered: {exc}"}
    if not config.use_accent():
        text = to_ascii(text)
    info = analyse(text)
    limit = config.max_segments()
    problem = ""
    if not text.strip():
        problem = "The rendered text is empty: send() would refuse it."
    elif info.segments > limit:
        problem = (
            f"{info.segments} segments is over the limit of {limit} (PYMESS_SMS_MAX_SEGMENTS): "
            "send() would refuse it."
        )
    return {
        "ok": True,
        "text": text,
        "encoding": str(info.encoding),
        "segments": info.segments,
        "units": info.units,
        "characters": len(text),
        "max_segments": limit,
        "problem": problem,
    }


def encoding_rules() -> dict[str, Any]:
    """The GSM-7/UCS-2 rules of :mod:`pymess.encoding`, for the counter in the browser."""
    return {
        "gsm7Basic": "".join(sorted(GSM7_BASIC)),
        "gsm7Extension": "".join(sorted(GSM7_EXTENSION)),
        "limits": {str(enc): list(limits) for enc, limits in _LIMITS.items()},
    }


class SMSTemplateAdminForm(forms.ModelForm):
    sample_context = forms.CharField(
        label=_("Sample context (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text=_('Only for the preview; not saved. A JSON object such as {"name": "Jana"}.'),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        body = self.initial.get("body") or ""
        self.fields["sample_context"].initial = json.dumps(
            sample_context_for(body), ensure_ascii=False
        )

    def clean_body(self) -> str:
        # Browsers submit textarea line breaks as CRLF; an SMS should not pay for the CR.
        return str(self.cleaned_data.get("body") or "").replace("\r\n", "\n")

    def clean_sample_context(self) -> str:
        raw = self.cleaned_data.get("sample_context") or "{}"
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %s") % exc) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Enter a JSON object, e.g. {"name": "Jana"}.'))
        return raw


class SMSTemplateAdmin(admin.ModelAdmin):
    """Templates, with a rendered preview and a live GSM-7/UCS-2 segment counter."""

    form = SMSTemplateAdminForm
    change_form_template = "admin/pymess/smstemplate/change_form.html"
    list_display = ("slug", "locale", "is_active", "changed_at")
    list_filter = ("is_active", "locale")
    search_fields = ("slug", "body")
    fieldsets = ((None, {"fields": ("slug", "locale", "is_active", "body", "sample_context")}),)

    class Media:
        js = ("pymess/admin/sms_counter.js",)
        css = {"all": ("pymess/admin/sms_counter.css",)}

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{opts.app_label}_{opts.model_name}_preview",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        opts = self.model._meta
        context["pymess_counter"] = {
            "rules": encoding_rules(),
            "previewUrl": reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_preview",
                current_app=self.admin_site.name,
            ),
        }
        return super().render_change_form(request, context, *args, **kwargs)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        return require_POST(self._preview)(request)

    def _preview(self, request: HttpRequest) -> JsonResponse:
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        try:
            context_data = json.loads(request.POST.get("sample_context") or "{}")
        except ValueError as exc:
            return JsonResponse({"ok": False, "error": f"Sample context is not valid JSON: {exc}"})
        if not isinstance(context_data, dict):
            return JsonResponse({"ok": False, "error": "Sample context must be a JSON object."})
        template = self.model()
        body = request.POST.get("body", "").replace("\r\n", "\n")
        return JsonResponse(preview(template, body, context_data))


def uses_default_template_model() -> bool:
    return config.template_model_label() == SMSTemplate._meta.label


if uses_default_template_model():
    admin.site.register(SMSTemplate, SMSTemplateAdmin)
