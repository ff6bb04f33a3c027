"""JSON answers rendered with orjson, and the headers every error carries whatever the vendor."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from mockserver.errors import MethodNotAllowed, TooManyRequests, VendorError

JSON = "application/json"


def json_bytes(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, headers=dict(headers or {}), media_type=JSON)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return json_bytes(status, orjson.dumps(body), headers)


def error_headers(error: VendorError) -> dict[str, str]:
    """``Allow`` on a 405, ``Retry-After`` (whole seconds, rounded up) on a 429 that knows it, and the
    headers the error carries (``VendorError.with_headers``: a rate-limit dialect's, for instance)."""
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(error.retry_after)))
    headers.update(error.headers)
    return headers
