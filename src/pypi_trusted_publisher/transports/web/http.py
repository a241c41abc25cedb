"""One polite HTTP client per index.

Good citizenship toward PyPI lives here: a descriptive User-Agent, timeouts,
``Accept-Language: en`` (the messages we match are English), ``Origin`` and
``Referer`` on every POST (docs/protocol/session.md#origin), GET retries with backoff that honour
``Retry-After``, and no automatic redirects: a redirect to another host is
refused instead of followed. A POST is never retried here; the caller re-reads
the listing first. Error messages never include request bodies, query strings
or headers, so nothing secret can leak through them.

``timeout`` is a deadline for each request, its retries and the pauses between
them included: every try gets only the time that is left, and a pause that
would end past the deadline is not taken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from ... import __version__
from ...core.errors import RegistrationFailed
from ...core.indexes import Index
from ...core.secret import Secret

# A form field, header or URL that may be secret: revealed only in the httpx call that sends it.
Value = str | Secret

USER_AGENT = (
    f"pypi-trusted-publisher/{__version__} "
    "(+https://github.com/pypi-trusted-publisher/pypi-trusted-publisher-action)"
)
GET_ATTEMPTS = 3
MAX_RETRY_AFTER = 60.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _DropQueries(logging.Filter):
    """httpx logs every request URL at INFO; a confirm-login URL carries a login token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


_QUERY_FILTER = _DropQueries()


def _plain(value: Value) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def _plain_items(values: Mapping[str, Value] | None) -> dict[str, str] | None:
    return None if values is None else {name: _plain(value) for name, value in values.items()}


def retry_after_seconds(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.strip().isdigit() else None


class Http:
    """httpx wrapper bound to one index and one cookie jar."""

    def __init__(
        self,
        index: Index,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        logging.getLogger("httpx").addFilter(_QUERY_FILTER)  # idempotent: filters are a set
        # httpcore's DEBUG traces print raw response headers, session cookies included.
        logging.getLogger("httpcore").setLevel(max(logging.INFO, logging.getLogger("httpcore").level))
        self.index = index
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Language": "en"},
        )

    def close(self) -> None:
        self.client.close()

    def fresh_cookies(self) -> None:
        """Forget the session: the confirm link must be opened logged-out (docs/protocol/new-ip.md#link)."""
        self.client.cookies.clear()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.index.page(path)

    def _send(
        self,
        method: str,
        path: Value,
        deadline: float,
        *,
        data: Mapping[str, Value] | None = None,
        json: object = None,
        headers: Mapping[str, Value] | None = None,
    ) -> httpx.Response:
        shown = urlsplit(self.url(_plain(path))).path  # never the query: it may hold a token
        # Never more than the time left, never more than one whole timeout (a clock that jumps back).
        left = min(deadline - self.clock(), self.timeout)
        if left <= 0:
            raise self._timed_out(method, shown)
        self.requests += 1
        try:
            return self.client.request(
                method,
                self.url(_plain(path)),
                timeout=left,
                data=_plain_items(data),
                json=json,
                headers=_plain_items(headers),
            )
        except httpx.TimeoutException:
            raise self._timed_out(method, shown) from None
        except httpx.HTTPError as exc:
            raise RegistrationFailed(
                "network",
                f"{method} {shown} on {self.index.host} failed: {type(exc).__name__}",
            ) from None

    def _timed_out(self, method: str, shown: str) -> RegistrationFailed:
        return RegistrationFailed(
            "timeout", f"{method} {shown} on {self.index.host} got no answer within {self.timeout:g} s"
        )

    def get(
        self, path: Value, *, headers: Mapping[str, Value] | None = None, attempts: int = GET_ATTEMPTS
    ) -> httpx.Response:
        """GET with up to ``attempts`` tries on network errors, 5xx and short 429s, within the deadline."""
        deadline = self.clock() + self.timeout
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._send("GET", path, deadline, headers=headers)
            except RegistrationFailed:
                if last or not self._pause(2.0 ** (attempt - 1), deadline):
                    raise
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            wait = retry_after_seconds(response)
            if wait is None:
                wait = int(2 ** (attempt - 1))
            if wait > MAX_RETRY_AFTER or not self._pause(float(wait), deadline):
                return response
        raise AssertionError("unreachable")

    def _pause(self, seconds: float, deadline: float) -> bool:
        """Sleep before another try, unless the try would start at or past the deadline."""
        if self.clock() + seconds >= deadline:
            return False
        self.sleep(seconds)
        return True

    def post(
        self,
        path: str,
        data: Mapping[str, Value] | None = None,
        *,
        json: object = None,
        headers: Mapping[str, Value] | None = None,
    ) -> httpx.Response:
        """POST once, with Origin and Referer (Pyramid's origin check on https)."""
        url = self.url(path)
        sent: dict[str, Value] = {"Origin": self.index.origin, "Referer": url.split("?", 1)[0]}
        sent.update(headers or {})
        return self._send("POST", url, self.clock() + self.timeout, data=data, json=json, headers=sent)

    def location(self, response: httpx.Response) -> str:
        """The redirect target as a path on this index; other hosts are refused."""
        target = urljoin(str(response.request.url), str(response.headers.get("Location", "")))
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc}" != self.index.origin:
            raise RegistrationFailed(
                "unexpected-redirect",
                f"{self.index.host} redirected to another host ({parts.netloc}); not following it",
            )
        base = urlsplit(self.index.url).path
        path = parts.path.removeprefix(base) if base else parts.path
        return path + (f"?{parts.query}" if parts.query else "")
