"""The Amazon SNS backend: one ``sns.publish`` call per message.

SNS has no per-message delivery report (delivery status goes to CloudWatch
Logs only), so an accepted message ends in ``SENT`` with the SNS ``MessageId``
as its ``external_id``.

pymess owns retries: botocore's own retries are switched off, so a failed call
is classified once and the batch engine decides when to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from django.utils import timezone

from pymess import config
from pymess.backend.sms.base import SMSBackend, parse_retry_after
from pymess.enums import OutputSMSMessageState as State
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError

if TYPE_CHECKING:
    from pymess.models.sms import OutputSMSMessage

logger = logging.getLogger("pymess.backend.sns")

SMS_TYPES = ("Transactional", "Promotional")

#: Error codes that mean "this request will never succeed as it is".
PERMANENT_CODES = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "ParameterValueInvalid",
        "AuthorizationError",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AccessDeniedException",
        "OptedOut",
        "NotFound",
        "EndpointDisabled",
    }
)
#: Error codes that mean "slow down".
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ThrottledException",
        "KMSThrottling",
    }
)


class SNSSMSBackend(SMSBackend):
    """Sends SMS with ``sns.publish(PhoneNumber=..., Message=...)``.

    Options (``PYMESS_SNS_SMS_CONFIG``): ``AWS_REGION`` (required),
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (both or neither; without
    them boto3's default credential chain is used), ``SENDER_ID`` (alphanumeric
    sender, sent as ``AWS.SNS.SMS.SenderID``), ``SMS_TYPE`` (``Transactional`` or
    ``Promotional``), ``ENDPOINT_URL`` (a VPC endpoint or a local fake),
    ``TIMEOUT`` (seconds, connect and read).
    """

    import_path = "pymess.backend.sms.sns.SNSSMSBackend"
    config_setting = "PYMESS_SNS_SMS_CONFIG"
    options_spec = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_REGION": SMSBackend.REQUIRED,
        "SENDER_ID": "",
        "SMS_TYPE": "Transactional",
        "ENDPOINT_URL": None,
        "TIMEOUT": 10,
    }
    supports_sender_id = True

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        problems = super().option_problems(options)
        has_key = bool(options.get("AWS_ACCESS_KEY_ID"))
        has_secret = bool(options.get("AWS_SECRET_ACCESS_KEY"))
        if has_key != has_secret:
            problems.append(
                "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither "
                "(to use boto3's default credential chain)."
            )
        sms_type = options.get("SMS_TYPE", "Transactional")
        if sms_type not in SMS_TYPES:
            problems.append(f"SMS_TYPE must be one of {', '.join(SMS_TYPES)}, not {sms_type!r}.")
        return problems

    # -- the client ----------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 SNS client, built once per backend instance and shared by worker threads."""
        return self.get_client()

    def build_client(self) -> Any:
        timeout = self.timeout()
        botocore_config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            max_pool_connections=config.worker_threads(),
            # pymess retries with backoff across attempts; botocore must not retry inside one.
            retries={"mode": "standard", "total_max_attempts": 1},
        )
        # A session of our own: boto3's default session is not safe to share between threads.
        session = boto3.session.Session(
            aws_access_key_id=self.options["AWS_ACCESS_KEY_ID"] or None,
            aws_secret_access_key=self.options["AWS_SECRET_ACCESS_KEY"] or None,
            region_name=self.options["AWS_REGION"],
        )
        return session.client(
            "sns", endpoint_url=self.options["ENDPOINT_URL"] or None, config=botocore_config
        )

    # -- sending -------------------------------------------------------------------------------

    def message_attributes(self) -> dict[str, dict[str, str]]:
        attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": self.options["SMS_TYPE"]}
        }
        if self.options["SENDER_ID"]:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": self.options["SENDER_ID"],
            }
        return attributes

    def publish_message(self, message: OutputSMSMessage) -> None:
        try:
            response = self.client.publish(
                PhoneNumber=message.recipient,
                Message=message.content,
                MessageAttributes=self.message_attributes(),
            )
        except ClientError as exc:
            raise classify_client_error(exc) from exc
        except ResponseParserError as exc:
            # SNS answered but we cannot read the answer: it may well have taken the message.
            mark_unknown(message, f"SNS sent a response pymess cannot parse: {exc}")
            return
        except ReadTimeoutError as exc:
            raise TemporarySendError(
                f"SNS did not answer within {self.timeout():g} s (TIMEOUT): {exc}"
            ) from exc
        except ConnectTimeoutError as exc:
            raise TemporarySendError(f"Cannot connect to SNS in time: {exc}") from exc
        except BotoCoreError as exc:
            raise TemporarySendError(f"Cannot reach SNS: {exc}") from exc

        message_id = response.get("MessageId") if isinstance(response, dict) else None
        if not message_id:
            mark_unknown(message, "SNS accepted the request but returned no MessageId.")
            return
        message.sender = self.options["SENDER_ID"]
        self.mark_sent(message, State.SENT, external_id=message_id)


def mark_unknown(message: OutputSMSMessage, reason: str) -> None:
    """The provider may or may not have taken the message: record ``UNKNOWN``, never resend."""
    logger.warning("SNS: outcome of message %s unknown: %s", message.pk, reason)
    message.state = State.UNKNOWN
    message.sent_at = timezone.now()
    message.error = reason


def classify_client_error(exc: ClientError) -> Exception:
    """The pymess send error for an SNS error response."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "")
    text = str(error.get("Message") or exc)
    metadata = exc.response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode") or 0)
    if code in THROTTLING_CODES or status == 429:
        headers = metadata.get("HTTPHeaders") or {}
        return RateLimitedError(
            f"SNS is throttling: {text}",
            code=code or status,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if code in PERMANENT_CODES:
        return PermanentSendError(f"SNS rejected the message: {text}", code=code)
    if status >= 500 or not status:
        return TemporarySendError(f"SNS failed (HTTP {status}): {text}", code=code or status)
    # Any other 4xx: the request itself is wrong and would fail the same way again.
    return PermanentSendError(
        f"SNS rejected the request (HTTP {status}): {text}", code=code or status
    )
