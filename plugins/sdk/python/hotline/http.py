"""Outbound HTTP to the hosts the tenant allowlists. Bodies are text; any status is a
response (check `Response.ok`); a timeout, a refused connection or a host off the allowlist
raises `hotline.HttpError`."""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from wit_world.imports import http as _http

from ._errors import HttpError, host_call


@dataclass
class Response:
    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300

    def header(self, name: str) -> Optional[str]:
        """The first header of this name (case-insensitive)."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError if it is not)."""
        return json.loads(self.body)


def _send(method, url: str, headers: Optional[Dict[str, str]], body: Optional[str],
          timeout_ms: Optional[int]) -> Response:
    request = _http.Request(
        method=method,
        url=url,
        headers=list((headers or {}).items()),
        body=body,
        timeout_ms=timeout_ms,
    )
    response = host_call(HttpError, _http.send, request)
    return Response(response.status, list(response.headers), response.body)


def get(url: str, headers: Optional[Dict[str, str]] = None,
        timeout_ms: Optional[int] = None) -> Response:
    """GET `url`; `timeout_ms` overrides the tenant's default (at most 10,000)."""
    return _send(_http.Method.GET, url, headers, None, timeout_ms)


def post(url: str, body: str, headers: Optional[Dict[str, str]] = None,
         timeout_ms: Optional[int] = None) -> Response:
    """POST `body` (at most 64 KiB of text) to `url`."""
    return _send(_http.Method.POST, url, headers, body, timeout_ms)


_UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def encode_query(text: str) -> str:
    """`text` percent-encoded for a URL's query (`+421...` becomes `%2B421...`)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))
