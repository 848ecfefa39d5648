"""``send()`` and ``send_template()``: validate, store, hand over once the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from pymess import config
from pymess.backend.sms.registry import get_backend
from pymess.content import prepare_content, validate_extra_data
from pymess.exceptions import InvalidContent, InvalidRelatedObject, TemplateNotFound
from pymess.recipients import normalize_recipient
from pymess.templating import locale_fallbacks

if TYPE_CHECKING:
    from pymess.models.sms import AbstractSMSTemplate, OutputSMSMessage

logger = logging.getLogger("pymess.send")


def send(
    recipient: str,
    content: str,
    related_objects: Iterable[models.Model] | None = None,
    tag: str | None = None,
    send_immediately: bool = False,
    *,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    priority: int = 0,
    retry_sending: bool = True,
    backend_alias: str = config.DEFAULT_BACKEND_ALIAS,
    **kwargs: Any,
) -> OutputSMSMessage:
    """Store an SMS and send it (now, or through the batch worker); return the stored message.

    :param recipient: phone number; normalised to E.164.
    :param content: the text. With ``PYMESS_SMS_USE_ACCENT = False`` non-ASCII
        characters are transliterated.
    :param related_objects: saved model instances to link to the message.
    :param tag: a free label stored with the message.
    :param send_immediately: send on commit even when ``PYMESS_SMS_BATCH_SENDING`` is on.
    :param send_at: not before this time (always through the batch worker).
    :param expires_at: never send after this time; the message ends in ``ERROR``.
    :param priority: higher is claimed first by the batch worker.
    :param retry_sending: retry after temporary failures.
    :param backend_alias: which ``PYMESS_SMS_BACKENDS`` entry sends it.
    :param kwargs: stored in ``extra_data`` (must be JSON-serialisable).
    :raises InvalidRecipient, InvalidContent, InvalidRelatedObject: bad input; nothing is stored.
    :raises django.core.exceptions.ImproperlyConfigured: unknown backend or missing
        provider settings; nothing is stored.

    The provider is called only after the surrounding transaction commits, and
    provider failures never escape: they are recorded on the message.
    """
    return _store_and_dispatch(
        recipient=recipient,
        content=content,
        related_objects=related_objects,
        tag=tag,
        send_immediately=send_immediately,
        send_at=send_at,
        expires_at=expires_at,
        priority=priority,
        retry_sending=retry_sending,
        backend_alias=backend_alias,
        extra_data=kwargs,
    )


def send_template(
    recipient: str,
    slug: str,
    context_data: dict[str, Any] | None,
    locale: str | None = None,
    related_objects: Iterable[models.Model] | None = None,
    tag: str | None = None,
    send_immediately: bool = False,
    **kwargs: Any,
) -> OutputSMSMessage | None:
    """Render the template ``slug`` for ``locale`` and send it; ``None`` if it may not be sent.

    The template is looked up along the locale fallback chain: ``locale``, its
    language, ``LANGUAGE_CODE``, its language, then the template with no locale.

    :raises TemplateNotFound: no template in the chain; nothing is stored.
    :returns: the stored message, or ``None`` (nothing stored) when the
        template's :meth:`~pymess.models.sms.AbstractSMSTemplate.can_send` says no.

    Other parameters and errors are those of :func:`send`.
    """
    template = get_template(slug, locale)
    return template.send(
        recipient,
        context_data,
        related_objects=related_objects,
        tag=tag,
        send_immediately=send_immediately,
        **kwargs,
    )


def get_template_model() -> type[AbstractSMSTemplate]:
    """The model named by ``PYMESS_SMS_TEMPLATE_MODEL``."""
    model: type[AbstractSMSTemplate] = django_apps.get_model(config.template_model_label())
    return model


def get_template(slug: str, locale: str | None = None) -> AbstractSMSTemplate:
    """The best template for ``slug`` along the locale fallback chain (one query)."""
    chain = locale_fallbacks(locale, settings.LANGUAGE_CODE)
    candidates = {
        t.locale: t
        for t in get_template_model()._default_manager.filter(slug=slug, locale__in=chain)
    }
    for candidate in chain:
        if candidate in candidates:
            return candidates[candidate]
    raise TemplateNotFound(
        f"No SMS template with slug {slug!r} for locales {', '.join(repr(c) for c in chain)}."
    )


def send_rendered_template(
    template: AbstractSMSTemplate,
    recipient: str,
    context_data: dict[str, Any] | None,
    *,
    related_objects: Iterable[models.Model] | None = None,
    tag: str | None = None,
    send_immediately: bool = False,
    **kwargs: Any,
) -> OutputSMSMessage | None:
    """What :meth:`AbstractSMSTemplate.send` does: check, render, store, send."""
    if not template.can_send(recipient, context_data):
        return None
    try:
        content = template.render_body(context_data)
    except Exception as exc:
        raise InvalidContent(f"SMS template {template} cannot be rendered: {exc}") from exc
    options = {
        name: kwargs.pop(name)
        for name in ("send_at", "expires_at", "priority", "retry_sending", "backend_alias")
        if name in kwargs
    }
    return _store_and_dispatch(
        recipient=recipient,
        content=content,
        related_objects=related_objects,
        tag=tag,
        send_immediately=send_immediately,
        template=template,
        extra_data=kwargs,
        **options,
    )


def _related_rows(related_objects: Iterable[models.Model] | None) -> list[tuple[ContentType, str]]:
    rows = []
    for obj in related_objects or ():
        if not isinstance(obj, models.Model) or obj.pk is None:
            raise InvalidRelatedObject(
                f"Related objects must be saved model instances, got {obj!r}."
            )
        rows.append((ContentType.objects.get_for_model(obj), str(obj.pk)))
    return rows


def _store_and_dispatch(
    *,
    recipient: str,
    content: str,
    related_objects: Iterable[models.Model] | None,
    tag: str | None,
    send_immediately: bool,
    extra_data: dict[str, Any],
    template: AbstractSMSTemplate | None = None,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    priority: int = 0,
    retry_sending: bool = True,
    backend_alias: str = config.DEFAULT_BACKEND_ALIAS,
) -> OutputSMSMessage:
    from pymess.models.sms import OutputSMSMessage, OutputSMSRelatedObject
    from pymess.outbox import new_claim_fields

    # Everything that can reject the call runs before the first write.
    recipient = normalize_recipient(recipient)
    content, info = prepare_content(content)
    validate_extra_data(extra_data)
    related = _related_rows(related_objects)
    backend = get_backend(backend_alias)

    now = timezone.now()
    scheduled = send_at is not None and send_at > now
    send_now = not scheduled and (send_immediately or not config.batch_sending())
    message = OutputSMSMessage(
        recipient=recipient,
        content=content,
        encoding=info.encoding,
        segments=info.segments,
        tag=tag or "",
        backend=backend.dotted_path(),
        backend_alias=backend.alias,
        extra_data=extra_data,
        retry_sending=retry_sending,
        priority=priority,
        next_attempt_at=send_at if scheduled else None,
        expires_at=expires_at,
        template=template,  # type: ignore[misc]  # the swappable template model
        template_slug=template.slug if template is not None else "",
        locale=template.locale if template is not None else "",
        # Sent at once: the creator claims the row, so no batch worker can take it too.
        **(new_claim_fields(now) if send_now else {}),
    )
    if related:
        with transaction.atomic(savepoint=False):
            message.save(force_insert=True)
            OutputSMSRelatedObject.objects.bulk_create(
                OutputSMSRelatedObject(output_sms_message=message, content_type=ct, object_id=pk)
                for ct, pk in related
            )
    else:
        message.save(force_insert=True)

    if send_now:
        transaction.on_commit(partial(_send_claimed_message, message), robust=True)
    else:
        from pymess.dispatch import message_queued

        message_queued(message)
    return message


def _send_claimed_message(message: OutputSMSMessage) -> None:
    from pymess.outbox import Claim, send_claim

    assert message.claim_token is not None
    send_claim(Claim(message.claim_token, [message]))
