"""The Datadog search-query language (filter[query]): mockserver/vendors/_datadog_query.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mockserver.vendors._datadog_query import QuerySyntaxError, compile_query, matches_all

SEARCH_PAGE = "Datadog docs: Log Search Syntax, https://docs.datadoghq.com/logs/explorer/search_syntax/"
documented = pytest.mark.vendor_documented(SEARCH_PAGE)

EVENT: dict[str, Any] = {
    "timestamp": "2022-04-13T09:21:13.750Z",
    "service": "datadog",
    "message": "GET request made to /api/v1/dashboard by foo@example.com with response 200",
    "tags": ["source:audit", "env:prod", "standalone"],
    "attributes": {
        "evt": {"name": "Request", "actor": {"type": "USER"}},
        "usr": {"id": "u1", "email": "foo@example.com", "uuid": "0f1e", "name": "Foo Bar"},
        "action": "accessed",
        "http": {"method": "GET", "status_code": "200", "url_details": {"path": "/api/v1/dashboard"}},
        "status": "info",
    },
}


def event_with(**attributes: Any) -> dict[str, Any]:
    return {**EVENT, "attributes": {**EVENT["attributes"], **attributes}}


def matches(query: str, event: dict[str, Any] = EVENT) -> bool:
    return compile_query(query)(event)


# --- free text ------------------------------------------------------------------------------------------

@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("request AND dashboard", True),
        ("request AND absent", False),
        ("absent OR request", True),
        ("absent OR missing", False),
        ("request AND -dashboard", False),
        ("request AND -absent", True),
        ("request dashboard", True),  # "if nothing is added, AND is taken by default"
        ("request absent", False),
    ],
)
def test_boolean_operators(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
def test_boolean_operators_are_case_sensitive() -> None:
    with pytest.raises(QuerySyntaxError):
        compile_query("request AND")
    assert matches("request and") is False  # "and" is a search term, absent from the message


@documented
@pytest.mark.parametrize("query", ["request", "REQUEST", "ReQuEsT"])
def test_free_text_is_case_insensitive(query: str) -> None:
    assert matches(query)


@documented
@pytest.mark.parametrize(("query", "expected"), [('"request made"', True), ('"made request"', False)])
def test_sequence_in_double_quotes_matches_the_words_in_order(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [("GET*", True), ("*200", True), ("*ashboa*", True), ("dash*x", False), ("fo?@example.com", True)],
)
def test_free_text_wildcards(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
def test_wildcards_inside_double_quotes_are_literal() -> None:
    starred = {**EVENT, "message": "a *test* message"}
    assert matches('"*test*"', starred) and not matches('"*test*"', {**EVENT, "message": "a test message"})


@documented
def test_free_text_searches_only_the_message() -> None:
    assert not matches("accessed")  # the value of @action, not in the message


@pytest.mark.mock_only
@pytest.mark.parametrize(("query", "expected"), [("ashboar", True), ("quest", True), ("v1/dash", True)])
def test_plain_free_text_term_is_a_substring(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.mock_only
@pytest.mark.parametrize(("query", "expected"), [("request*dashboard", False), ("/api*board", True)])
def test_free_text_star_does_not_span_whitespace(query: str, expected: bool) -> None:
    assert matches(query) is expected


# --- attributes -----------------------------------------------------------------------------------------

@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@usr.email:foo@example.com", True),
        ("@evt.name:Request", True),
        ("@evt.actor.type:USER", True),
        ('@http.url_details.path:"/api/v1/dashboard"', True),
        ("@usr.email:bar@example.com", False),
        ("@evt.name:Req", False),  # a whole-value match, not a substring
    ],
)
def test_attribute_search_on_a_nested_path(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
@pytest.mark.parametrize("query", ["@evt.name:request", "@usr.email:FOO@example.com"])
def test_attribute_search_is_case_sensitive(query: str) -> None:
    assert not matches(query)


@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@usr.email:*@example.com", True),
        ("@usr.email:*@acme.com", False),
        ("@http.url_details.path:/api/v1/*", True),
        ("@usr.name:Foo*", True),
        ("@usr.name:F?o?Bar", True),
    ],
)
def test_attribute_wildcards(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
@pytest.mark.parametrize(
    "query", [r"@my_attribute:hello\:world", '@my_attribute:"hello:world"', r"@path:\/api\/v1*"]
)
def test_special_characters_escaped_or_quoted(query: str) -> None:
    assert matches(query, event_with(my_attribute="hello:world", path="/api/v1/dashboard"))


@documented
def test_question_mark_matches_a_space() -> None:
    assert matches("@my_attribute:hello?world", event_with(my_attribute="hello world"))


@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [("@http.status_code:*", True), ("-@http.status_code:*", False), ("@nope:*", False)],
)
def test_attribute_exists(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@http.status_code:[200 TO 299]", True),
        ("@http.status_code:[400 TO 499]", False),
        ("@http.status_code:[200 TO 200]", True),  # bounds are inclusive
        ("@http.status_code:>100", True),
        ("@http.status_code:>200", False),
        ("@http.status_code:>=200", True),
        ("@http.status_code:<200", False),
        ("@http.status_code:<=200", True),
    ],
)
def test_numerical_ranges_and_comparisons(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
def test_array_attribute_matches_when_any_element_matches() -> None:
    event = event_with(users={"names": ["Paul", "Peter"]})
    assert matches("@users.names:Peter", event) and not matches("@users.names:Mary", event)


@documented
def test_path_through_an_array_of_objects() -> None:
    event = event_with(Event={"EventData": {"Data": [{"Name": "Other"}, {"Name": "ObjectServer"}]}})
    assert matches("@Event.EventData.Data.Name:ObjectServer", event)


@documented
@pytest.mark.parametrize(
    ("query", "expected"), [("*:accessed", True), ("*:ACCESSED", True), ("*:nothing", False)]
)
def test_full_text_search_covers_every_attribute(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("value", "query"),
    [
        (404, "@http.status_code:404"),
        (True, "@http.status_code:true"),
        (404, "@http.status_code:[400 TO 499]"),
    ],
)
def test_numbers_and_booleans_in_events_compare_by_their_text(value: object, query: str) -> None:
    assert matches(query, event_with(http={"status_code": value}))


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@n:>9", True),  # numeric: 10 > 9 (as strings "10" < "9")
        ("@n:{10 TO 20]", False),  # braces exclude the bound
        ("@n:[10 TO *]", True),  # "*" is an open bound
        ("@usr.name:>Eve", True),  # not numbers: string order
        ("@usr.name:[A TO C]", False),
    ],
)
def test_range_semantics(query: str, expected: bool) -> None:
    assert matches(query, event_with(n="10")) is expected


# --- reserved attributes and tags -----------------------------------------------------------------------

@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("service:datadog", True),
        ("service:data*", True),
        ("service:other", False),
        ("status:info", True),
        ("status:error", False),
        ("source:audit", True),
        ("host:*", False),
    ],
)
def test_reserved_attributes(query: str, expected: bool) -> None:
    assert matches(query) is expected


@documented
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("env:prod", True),
        ("env:test", False),
        ("env:pr*", True),
        ("env:(prod OR test)", True),
        ("env:(test OR staging)", False),
        ("(env:prod AND -version:beta)", True),
        ("tags:standalone", True),
    ],
)
def test_tag_search(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("query", "expected"),
    [("@evt.name:(Request OR Login)", True), ('@evt.name:("Access Management" OR Login)', False),
     ("env:(-prod)", False), ("@http.status_code:([100 TO 199] OR [200 TO 299])", True)],
)
def test_field_groups_apply_the_field_to_every_term(query: str, expected: bool) -> None:
    assert matches(query) is expected


# --- whole query ----------------------------------------------------------------------------------------

@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NOT absent AND request", True),  # (NOT absent) AND request
        ("request OR absent AND missing", True),  # request OR (absent AND missing)
        ("absent AND missing OR request", True),
        ("(request OR absent) AND missing", False),
        ("NOT NOT request", True),
        ("NOT(absent)", True),
        ("-(request OR absent)", False),
    ],
)
def test_precedence_not_and_or(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("text", "expected"), [("", True), ("   ", True), ("*", True), (" * ", True), ("request", False)]
)
def test_matches_all(text: str, expected: bool) -> None:
    assert matches_all(text) is expected


@pytest.mark.mock_only
@pytest.mark.parametrize("query", ["", " \t", "*", "* AND *"])
def test_everything_queries_match_an_empty_event(query: str) -> None:
    assert compile_query(query)({}) is True


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(request", "Invalid query: unbalanced parenthesis at position 0"),
        ("request)", "Invalid query: unbalanced parenthesis at position 7"),
        ('"request', "Invalid query: unbalanced quote at position 0"),
        ("request AND", "Invalid query: dangling operator 'AND' at position 8"),
        ("request OR )", "Invalid query: dangling operator 'OR' at position 8"),
        ("NOT", "Invalid query: dangling operator 'NOT' at position 0"),
        ("- request", "Invalid query: dangling operator '-' at position 0"),
        ("AND request", "Invalid query: unexpected operator 'AND' at position 0"),
        ("@attr:", "Invalid query: missing value after ':' at position 6"),
        ("@:x", "Invalid query: empty attribute name after '@' at position 0"),
        ("@a..b:x", "Invalid query: invalid attribute path 'a..b' at position 0"),
        (":x", "Invalid query: empty field name at position 0"),
        ("@attr", "Invalid query: attribute search needs ':' and a value at position 0"),
        ("@n:[1 TO]", "Invalid query: missing range upper bound at position 8"),
        ("@n:[1 2]", "Invalid query: expected 'TO' in range at position 6"),
        ("@n:[1 TO 2", "Invalid query: unclosed range at position 3"),
        ("@n:>", "Invalid query: missing value after '>' at position 4"),
        ("@n:>1*", "Invalid query: wildcards are not allowed in a range or comparison at position 4"),
        ("a*:x", "Invalid query: wildcards are not allowed in a field name at position 0"),
        ("request\\", "Invalid query: dangling escape '\\' at position 7"),
        ("()", "Invalid query: empty parentheses at position 0"),
        ("request]", "Invalid query: unexpected ']' at position 7"),
        ("*:[1 TO 2]", "Invalid query: ranges and comparisons need a field other than '*' at position 2"),
    ],
)
def test_syntax_errors_name_the_problem_and_position(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(query)
    assert str(caught.value) == message


@pytest.mark.mock_only
def test_query_syntax_error_is_a_value_error() -> None:
    assert issubclass(QuerySyntaxError, ValueError)


@pytest.mark.mock_only
def test_deep_nesting_is_a_syntax_error_not_a_recursion_error() -> None:
    with pytest.raises(QuerySyntaxError, match="too many nested parentheses"):
        compile_query("(" * 5000 + "request" + ")" * 5000)


@pytest.mark.mock_only
def test_long_flat_query_compiles_and_evaluates() -> None:
    query = " OR ".join(f"@usr.id:u{i}" for i in range(20000))
    assert matches(query) is True


@pytest.mark.mock_only
def test_many_wildcards_do_not_backtrack_exponentially() -> None:
    started = time.perf_counter()
    assert not matches("@x:" + "a*" * 40 + "b", event_with(x="a" * 20000))
    assert not matches("a*" * 40 + "b", {"message": "a " * 10000})
    assert time.perf_counter() - started < 5


@pytest.mark.mock_only
def test_huge_numeric_bound_does_not_raise() -> None:
    assert not matches("@http.status_code:>" + "9" * 5000)


@pytest.mark.mock_only
@pytest.mark.parametrize(
    "event",
    [{}, {"message": None, "tags": None, "attributes": None}, {"message": 5, "tags": "env:prod",
     "attributes": {"usr": ["x", {"email": 3}], "http": {"status_code": None}}}],
)
def test_odd_events_do_not_raise(event: dict[str, Any]) -> None:
    query = "request @usr.email:* -env:prod service:x @http.status_code:[1 TO 2] *:a"
    assert compile_query(query)(event) is False


# --- properties -----------------------------------------------------------------------------------------

TOKENS = [" ", "(", ")", '"', "\\", "*", "?", ":", "@", "@usr.email", "@http.status_code", ".", "AND", "OR",
          "NOT", "-", "[", "]", "{", "}", " TO ", ">", ">=", "<", "request", "200", "env", "prod", "é", "\t"]
queries = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))


@pytest.mark.mock_only
@settings(max_examples=500, deadline=None, database=None)
@given(queries)
def test_any_text_compiles_or_raises_query_syntax_error_and_never_raises_on_evaluation(text: str) -> None:
    try:
        predicate = compile_query(text)
    except QuerySyntaxError as error:
        assert "\n" not in str(error) and str(error).startswith("Invalid query: ")
        return
    assert predicate(EVENT) in (True, False)


@pytest.mark.mock_only
@settings(max_examples=300, deadline=None, database=None)
@given(queries)
def test_not_inverts_any_query(text: str) -> None:
    try:
        predicate, negated = compile_query(text), compile_query(f"NOT ({text})")
    except QuerySyntaxError:
        assume(False)
        return
    assert negated(EVENT) is (not predicate(EVENT))
