from __future__ import annotations

import base64

import pytest

from mockserver.engine.auth import MALFORMED, CredentialIndex, HeaderKeys, HttpBasic, PrefixedToken
from mockserver.engine.world import parse_world

DD = HeaderKeys((("DD-API-KEY", "api_key"), ("DD-APPLICATION-KEY", "app_key")))


def test_header_keys_need_every_header() -> None:
    assert DD.extract({"dd-api-key": "a", "dd-application-key": "b"}) == ("a", "b")
    assert DD.extract({"dd-api-key": "a"}) is None
    assert DD.extract({"dd-api-key": "a", "dd-application-key": "  "}) is None
    assert DD.headers_for({"api_key": "a", "app_key": "b"}) == {"DD-API-KEY": "a", "DD-APPLICATION-KEY": "b"}


def test_http_basic() -> None:
    scheme = HttpBasic("api_key", "secret_key")
    header = scheme.headers_for({"api_key": "k", "secret_key": "s:x"})
    assert header == {"Authorization": "Basic " + base64.b64encode(b"k:s:x").decode()}
    assert scheme.extract({"authorization": header["Authorization"]}) == ("k", "s:x")
    assert scheme.extract({}) is None


@pytest.mark.parametrize("value", ["Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                                   "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_http_basic_malformed(value: str) -> None:
    assert HttpBasic("u", "p").extract({"authorization": value}) == MALFORMED


def test_prefixed_token() -> None:
    scheme = PrefixedToken("Token", "token")
    assert scheme.extract({"authorization": "Token abc"}) == ("abc",)
    assert scheme.extract({"authorization": "token abc"}) == ("abc",)
    assert scheme.extract({"authorization": "Key abc"}) == MALFORMED
    assert scheme.extract({"authorization": "Token "}) == MALFORMED
    assert scheme.headers_for({"token": "abc"}) == {"Authorization": "Token abc"}


def test_credential_index_finds_by_secrets_only_within_the_vendor() -> None:
    world = parse_world({"v": {"orgs": [{"id": "o", "name": "O", "credentials": [
        {"id": "c1", "role": "admin", "secrets": {"api_key": "a", "app_key": "b"}}]}]}},
        {"v": DD.fields, "w": DD.fields})
    index = CredentialIndex("v", DD, world)
    found = index.lookup(("a", "b"))
    assert found is not None and found.id == "c1" and found.org_id == "o"
    assert index.lookup(("a", "c")) is None
    assert CredentialIndex("w", DD, world).lookup(("a", "b")) is None
    assert index.lookup(MALFORMED) is None
