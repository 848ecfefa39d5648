"""A requests-based base for backends that talk HTTP to their provider (ATS, SMS operator).

It owns what every HTTP backend needs once:

* **one** :class:`requests.Session` per backend instance (backends are cached per
  alias and process, so this is one session per worker), with a connection pool
  sized to :func:`pymess.config.worker_threads` so the batch engine's threads
  never queue for a connection;
* a timeout on every call (option ``TIMEOUT``, seconds, default 10);
* error classification the batch engine retries on: connection errors, timeouts
  and HTTP 5xx become :class:`~pymess.exceptions.TemporarySendError`, HTTP 429
  :class:`~pymess.exceptions.RateLimitedError` (honouring ``Retry-After``),
  401/403 a :class:`~pymess.exceptions.PermanentSendError` that points at the
  credentials;
* a cap on the response size, read in chunks, so a hostile server cannot make a
  worker buffer gigabytes;
* credentials never reach logs or error texts: only the method, host and status are logged.

Needs requests (``pip install "pymess-core[http]"``); it is imported when the first
session is built, so importing this module does not require it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from pymess import config
from pymess.backend.sms.base import SMSBackend, parse_retry_after
from pymess.backend.sms.xml import MAX_RESPONSE_BYTES, UnreadableResponse
from pymess.exceptions import PermanentSendError, RateLimitedError, TemporarySendError

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("pymess.backend.http")


class HTTPSMSBackend(SMSBackend):
    """Base class of backends that POST a request body to ``URL`` and read the answer."""

    #: The provider's endpoint, used when option ``URL`` is empty.
    default_url: ClassVar[str] = ""
    #: Name used in error messages and logs.
    provider_name: ClassVar[str] = "The provider"
    #: ``Content-Type`` of the request bodies.
    content_type: ClassVar[str] = "text/xml; charset=utf-8"
    #: Largest response body read, in bytes.
    max_response_bytes: ClassVar[int] = MAX_RESPONSE_BYTES

    @property
    def url(self) -> str:
        return str(self.options.get("URL") or self.default_url)

    def endpoint_label(self) -> str:
        """Scheme and host of the endpoint: what logs may show (no path, query or userinfo)."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"

    # -- session -------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """The session shared by this backend's worker threads (built on first use)."""
        session: requests.Session = self.get_client()
        return session

    def build_client(self) -> requests.Session:
        try:
            import requests
            from requests.adapters import HTTPAdapter
        except ImportError as exc:  # pragma: no cover - exercised by the partial-install runs
            raise ImportError(
                f"{type(self).__name__} needs requests. Run: pip install 'pymess-core[http]'"
            ) from exc
        session = requests.Session()
        # Never retried inside requests: the batch engine decides (a retried POST may send twice).
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=config.worker_threads(),
            max_retries=0,
            pool_block=False,
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = "pymess"
        return session

    # -- calls ---------------------------------------------------------------------------------

    def post(self, body: bytes, *, purpose: str = "request") -> bytes:
        """POST ``body`` to :attr:`url` and return the response body.

        :raises pymess.exceptions.SendError: a classified transport or HTTP failure.
        :raises pymess.backend.sms.xml.UnreadableResponse: the body is over the size cap.
        """
        import requests

        label = self.endpoint_label()
        try:
            response = self.session().post(
                self.url,
                data=body,
                headers={"Content-Type": self.content_type},
                timeout=self.timeout(),
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise TemporarySendError(
                f"{self.provider_name} did not answer the {purpose} within {self.timeout():g} s "
                f"({label}); it will be retried."
            ) from None
        except requests.ConnectionError as exc:
            raise TemporarySendError(
                f"Cannot connect to {self.provider_name} at {label} for the {purpose}: "
                f"{_reason(exc)}."
            ) from None
        except requests.RequestException as exc:
            raise TemporarySendError(
                f"{self.provider_name} {purpose} failed: {type(exc).__name__}."
            ) from None
        with response:
            status = response.status_code
            logger.debug("%s %s: HTTP %s", purpose, label, status)
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RateLimitedError(
                    f"{self.provider_name} is rate limiting requests (HTTP 429)"
                    + (f"; retry after {retry_after:g} s." if retry_after is not None else "."),
                    code=429,
                    retry_after=retry_after,
                )
            if status >= 500 or status == 408:
                raise TemporarySendError(
                    f"{self.provider_name} answered the {purpose} with HTTP {status}; "
                    "it will be retried.",
                    code=status,
                )
            if status in (401, 403):
                logger.error(
                    "%s refused the credentials (HTTP %s) from %s: "
                    "check USERNAME and PASSWORD in %s.",
                    self.provider_name,
                    status,
                    label,
                    self.settings_hint_setting(),
                )
                raise PermanentSendError(
                    f"{self.provider_name} refused the credentials (HTTP {status}): check USERNAME "
                    f"and PASSWORD in {self.settings_hint_setting()}.",
                    code=status,
                )
            if status >= 300:
                raise PermanentSendError(
                    f"{self.provider_name} answered the {purpose} with HTTP {status}: check URL "
                    f"in {self.settings_hint_setting()} ({label}).",
                    code=status,
                )
            return self._read_capped(response, purpose)

    def _read_capped(self, response: requests.Response, purpose: str) -> bytes:
        import requests

        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise UnreadableResponse(
                        f"{self.provider_name} answered the {purpose} with more than "
                        f"{self.max_response_bytes} bytes; the response was discarded."
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise TemporarySendError(
                f"{self.provider_name} {purpose}: the response broke off ({type(exc).__name__})."
            ) from None
        return b"".join(chunks)

    def settings_hint_setting(self) -> str:
        """Where this backend's options live, for error messages."""
        if self.alias == config.DEFAULT_BACKEND_ALIAS and self.config_setting:
            return self.config_setting
        return f'PYMESS_SMS_BACKENDS["{self.alias}"]["OPTIONS"]'


def _reason(exc: BaseException) -> str:
    """A short cause for a connection error, without URLs (which could carry credentials)."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        cause = pending.pop(0)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
        pending.extend(
            [getattr(cause, "reason", None), cause.__cause__, cause.__context__, *cause.args[:1]]
        )
    return type(exc).__name__
