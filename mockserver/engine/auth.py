"""Authentication schemes as data.

A scheme knows which secret fields a credential has, how to read them from a request's headers and
how to print the headers that carry them. The world's credentials are indexed by those secrets.

- ``HeaderKeys(("DD-API-KEY", "api_key"), ...)``: one header per secret, all required.
- ``HttpBasic("api_key", "secret_key")``: ``Authorization: Basic base64(user:password)``.
- ``PrefixedToken("Token", "token")``: ``Authorization: Token <secret>`` (``Key``, ``Bearer``...).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from mockserver.engine.world import Credential, World

MALFORMED: tuple[str, ...] = ("\x00malformed",)  # present but unreadable: never matches a credential


class AuthScheme(Protocol):
    @property
    def fields(self) -> tuple[str, ...]: ...

    @property
    def description(self) -> str: ...

    def extract(self, headers: Mapping[str, str]) -> tuple[str, ...] | None:
        """The secrets in field order; None when the request carries none; MALFORMED when unreadable."""

    def headers_for(self, secrets: Mapping[str, str]) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class HeaderKeys:
    pairs: tuple[tuple[str, str], ...]  # (header name, secret field)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for _, field in self.pairs)

    @property
    def description(self) -> str:
        return "headers " + " and ".join(name for name, _ in self.pairs)

    def extract(self, headers: Mapping[str, str]) -> tuple[str, ...] | None:
        values = tuple(headers.get(name.lower(), "").strip() for name, _ in self.pairs)
        if not all(values):
            return None
        return values

    def headers_for(self, secrets: Mapping[str, str]) -> dict[str, str]:
        return {name: secrets[field] for name, field in self.pairs}


@dataclass(frozen=True, slots=True)
class HttpBasic:
    user_field: str
    password_field: str

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.user_field, self.password_field)

    @property
    def description(self) -> str:
        return f"HTTP Basic ({self.user_field}:{self.password_field})"

    def extract(self, headers: Mapping[str, str]) -> tuple[str, ...] | None:
        value = headers.get("authorization", "").strip()
        if not value:
            return None
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return MALFORMED
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return MALFORMED
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else MALFORMED

    def headers_for(self, secrets: Mapping[str, str]) -> dict[str, str]:
        pair = f"{secrets[self.user_field]}:{secrets[self.password_field]}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


@dataclass(frozen=True, slots=True)
class PrefixedToken:
    prefix: str
    field: str

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    @property
    def description(self) -> str:
        return f"header Authorization: {self.prefix} <{self.field}>"

    def extract(self, headers: Mapping[str, str]) -> tuple[str, ...] | None:
        value = headers.get("authorization", "").strip()
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != self.prefix.lower() or not token.strip():
            return MALFORMED
        return (token.strip(),)

    def headers_for(self, secrets: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": f"{self.prefix} {secrets[self.field]}"}


class CredentialIndex:
    """The world's credentials of one vendor, looked up by their secrets."""

    def __init__(self, vendor: str, scheme: AuthScheme, world: World) -> None:
        self.scheme = scheme
        self._by_secrets: dict[tuple[str, ...], Credential] = {}
        for org in world.orgs.get(vendor, ()):
            for cred in org.credentials:
                self._by_secrets[tuple(cred.secrets[f] for f in scheme.fields)] = cred

    def lookup(self, secrets: tuple[str, ...]) -> Credential | None:
        return self._by_secrets.get(secrets)
