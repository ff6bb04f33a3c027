"""The errors a request can meet, as domain objects; each vendor renders them in its own envelope.

Call sites pass domain arguments, the class owns the words (``raise PageLimitOutOfRange(maximum=1000)``)::

    VendorError                       status  code
     ├── BadRequest                   400     bad_request
     │    ├── InvalidParameter        400     invalid_parameter   (name, reason)
     │    ├── InvalidBody             400     invalid_body        (reason, location)
     │    ├── InvalidCursor           400     invalid_cursor      (reason)
     │    ├── CursorQueryMismatch     400     invalid_cursor
     │    ├── InvalidQuery            400     invalid_query       (reason)
     │    └── RangeTooWide            400     range_too_wide      (max_days)
     ├── Unauthenticated              401     unauthenticated
     │    ├── MissingCredentials      401     missing_credentials (scheme)
     │    └── InvalidCredentials      401     invalid_credentials
     ├── PermissionDenied             403     permission_denied   (permission)
     ├── NotFound                     404     not_found
     ├── MethodNotAllowed             405     method_not_allowed  (allowed)
     ├── TooManyRequests              429     rate_limited        (retry_after, message)
     ├── InternalError                500     internal_error
     └── ServerFault                  5xx     server_fault        (status: 500, 502, 503 or 504; injected)

Any error may carry ``headers`` (e.g. a rate-limit dialect's X-RateLimit-*); ``render.error_headers``
adds them to the answer, so every vendor envelope sends them without knowing them.

A vendor may map a class to another status (Datadog answers every auth failure with 403 "Forbidden").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class VendorError(Exception):
    status: int = 500
    code: str = "internal_error"
    message: str = "Internal Server Error"
    headers: Mapping[str, str] = MappingProxyType({})

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def with_headers(self, headers: Mapping[str, str]) -> VendorError:
        """This error, sent with ``headers`` too (returns self, for ``raise error.with_headers(...)``)."""
        self.headers = {**self.headers, **headers}
        return self


class BadRequest(VendorError):
    status = 400
    code = "bad_request"
    message = "Bad Request"


class InvalidParameter(BadRequest):
    code = "invalid_parameter"

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Invalid query parameter '{name}': {reason}")


class InvalidBody(BadRequest):
    code = "invalid_body"

    def __init__(self, reason: str, location: tuple[str | int, ...] = (), raw: bytes | None = None) -> None:
        self.reason = reason
        self.location = location
        self.raw = raw
        """The body's bytes, for vendors that word their errors from the body itself (Datafold)."""
        where = ".".join(str(part) for part in location)
        super().__init__(f"Invalid request body at '{where}': {reason}" if where else f"Invalid request body: {reason}")


class InvalidCursor(BadRequest):
    code = "invalid_cursor"

    def __init__(self, reason: str = "the cursor is malformed or was not issued by this server") -> None:
        self.reason = reason
        super().__init__(f"Invalid page cursor: {reason}")


class CursorQueryMismatch(InvalidCursor):
    def __init__(self) -> None:
        super().__init__(
            "the cursor was issued for another query; resend the same filter and sort with the cursor"
        )


class InvalidQuery(BadRequest):
    code = "invalid_query"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RangeTooWide(BadRequest):
    code = "range_too_wide"

    def __init__(self, max_days: int) -> None:
        self.max_days = max_days
        super().__init__(f"The requested time range exceeds the maximum of {max_days} days")


class Unauthenticated(VendorError):
    status = 401
    code = "unauthenticated"
    message = "Unauthorized"


class MissingCredentials(Unauthenticated):
    code = "missing_credentials"

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        super().__init__(f"Missing credentials: authenticate with {scheme}")


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Invalid credentials")


class PermissionDenied(VendorError):
    status = 403
    code = "permission_denied"

    def __init__(self, permission: str) -> None:
        self.permission = permission
        super().__init__(f"Permission denied: requires {permission}")


class NotFound(VendorError):
    status = 404
    code = "not_found"
    message = "Not found"


class MethodNotAllowed(VendorError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        super().__init__("Method not allowed")


class TooManyRequests(VendorError):
    status = 429
    code = "rate_limited"
    message = "Too many requests"

    def __init__(self, retry_after: float | None = None, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InternalError(VendorError):
    status = 500
    code = "internal_error"
    message = "Internal Server Error"


SERVER_FAULT_MESSAGES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                         504: "Gateway Timeout"}


class ServerFault(VendorError):
    """A 5xx a fault plan injects; the vendor renders it in its envelope like any other error."""

    code = "server_fault"

    def __init__(self, status: int) -> None:
        if status not in SERVER_FAULT_MESSAGES:
            raise ValueError(f"no server fault with status {status}")
        self.status = status
        super().__init__(SERVER_FAULT_MESSAGES[status])
