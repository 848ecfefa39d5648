"""The Twilio status callback view.

Twilio POSTs a form (``MessageSid``, ``MessageStatus``, ``ErrorCode``, ...) to the
``status_callback`` URL the backend passed when sending. Answers:

* **403** - no ``X-Twilio-Signature``, or one that no configured Twilio backend
  signed for its ``STATUS_CALLBACK_URL`` (forged, wrong token, or signed for
  another URL). Nothing changes.
* **404** - a valid callback for a sid pymess has no message for (sent from
  another system sharing the account, or deleted). Nothing changes.
* **400** - a valid callback without ``MessageSid`` or ``MessageStatus``.
* **204** - accepted: the state was moved forward, or the report was a
  duplicate or arrived out of order and changed nothing.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pymess_twilio.backend import configured_backends

logger = logging.getLogger("pymess.backend.twilio.callbacks")

SIGNATURE_HEADER = "X-Twilio-Signature"


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    """Record a Twilio message status callback (see the module docstring for the answers)."""
    from pymess.models.sms import OutputSMSMessage

    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        logger.warning("Twilio status callback without %s refused.", SIGNATURE_HEADER)
        return HttpResponse("Missing Twilio signature.", status=403, content_type="text/plain")
    params = request.POST
    backend = next(
        (b for b in configured_backends() if b.is_valid_callback(params, signature)), None
    )
    if backend is None:
        logger.warning(
            "Twilio status callback with an invalid signature refused (check AUTH_TOKEN and that "
            "STATUS_CALLBACK_URL is exactly the public URL Twilio calls)."
        )
        return HttpResponse("Invalid Twilio signature.", status=403, content_type="text/plain")

    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponse(
            "MessageSid and MessageStatus are required.", status=400, content_type="text/plain"
        )
    message = OutputSMSMessage.objects.filter(external_id=sid, backend_alias=backend.alias).first()
    if message is None:
        logger.info("Twilio status callback for unknown message sid %s ignored.", sid)
        return HttpResponse("Unknown message.", status=404, content_type="text/plain")
    backend.record_status(message, status, params.get("ErrorCode") or "")
    return HttpResponse(status=204)
