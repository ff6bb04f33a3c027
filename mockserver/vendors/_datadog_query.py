"""The Datadog search-query language (``filter[query]``) of the mock's Datadog audit endpoints.

Audit Trail events "have the same functionality as logs within the Log Explorer" (Datadog docs: Audit
Trail, docs.datadoghq.com/account_management/audit_trail/), so this follows the Log Search Syntax page
(Datadog docs: Log Search Syntax, docs.datadoghq.com/logs/explorer/search_syntax/; "the page" below).

Grammar (terms are separated by whitespace; operators are upper case; ``\\`` escapes any character)::

    query    := [ or ]                              empty, blank or "*" matches everything
    or       := and ( "OR" and )*
    and      := unary ( [ "AND" ] unary )*           adjacent terms are ANDed
    unary    := ( "NOT" | "-" ) unary | primary      "-" must touch its operand: -foo, -(a b)
    primary  := "(" or ")" | term
    term     := field ":" value | field ":(" or ")" | word | phrase
    field    := "@" path | "*" | "service" | "status" | "tags" | tag_key
    value    := "*" | word | phrase | range | (">" | ">=" | "<" | "<=") word
    range    := ("[" | "{") bound "TO" bound ("]" | "}")      "[ ]" inclusive, "{ }" exclusive, "*" open
    word     := ( char | "\\" any | "*" | "?" )+               "*" any run, "?" any one character
    phrase   := '"' ( any but '"' | "\\" any )* '"'           wildcards are literal inside quotes
    char     := any character but whitespace and ( ) " [ ] { }; in a field name also ":"

Meaning, for E the outer attributes object of an audit event:
  word, phrase  free text: case-insensitive substring search of E["message"]; in a word "*" stands for
                any run of non-space characters and "?" for one character (``dash*``, ``*@acme.com``).
  @a.b:v        E["attributes"]["a"]["b"] is v, case-sensitive, whole value; lists fan out (any element).
  service:v     E["service"];  status:v  E["attributes"]["status"];  tags:v  an entry of E["tags"];
  k:v           any other k (host and source included): an entry "k:v" of E["tags"].
  *:v           the free-text rules applied to the message, the service and every nested attribute.
  f:*           f exists.  f:(a OR -b) applies f to each bare term of the group.
  ranges, <, >  numeric when both the bound and the value are numbers, else string order.
Numbers and booleans in events compare by their JSON text ("200", "true").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["Predicate", "QuerySyntaxError", "compile_query", "matches_all"]

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]
_Getter = Callable[[Event], Any]
_Test = Callable[[Any], bool]
_Match = Callable[[str], bool]
_Field = tuple[_Getter, bool, str]


class QuerySyntaxError(ValueError):
    """An unparsable query. ``str(err)`` is one line naming the problem and its 0-based position."""

    def __init__(self, problem: str, position: int) -> None:
        super().__init__(f"Invalid query: {problem} at position {position}")
        self.problem, self.position = problem, position


def matches_all(text: str) -> bool:
    """True when the query selects every event, so callers can skip evaluating it."""
    return text.strip() in ("", "*")


def compile_query(text: str) -> Predicate:
    """Parse ``text`` once into a predicate over an event's outer attributes object."""
    return _Parser(text).parse()


# --- values -------------------------------------------------------------------------------------------
# A parsed word is its segments between unescaped "*", each a regex source ("?" is "."), plus its text.

_MAX_DEPTH: Final = 64  # nested parentheses; keeps parsing and evaluation far from the recursion limit
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_CMP: Final[dict[str, Callable[[Any, Any], bool]]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


class _Word:
    def __init__(self, text: str, segments: list[str], wild: bool) -> None:
        self.text, self.segments, self.wild = text, segments, wild

    def is_star(self) -> bool:
        return self.wild and not "".join(self.segments)  # "*", "**", ...

    def match(self) -> _Match:
        """Whole-value match, case-sensitive. Linear time: each "*" but the last takes the earliest match
        of the segment after it inside an atomic group, so the regex never backtracks across two stars."""
        if not self.wild:
            return self.text.__eq__
        source = self.segments[0]
        if len(self.segments) > 1:
            head, *middle, tail = self.segments
            source = head + "".join(f"(?>.*?{seg})" for seg in middle if seg) + ".*" + tail
        fullmatch = re.compile(source, re.DOTALL).fullmatch
        return lambda s: fullmatch(s) is not None

    def search(self) -> _Match:
        """Case-insensitive search anywhere in the text; "*" spans no whitespace (same atomic groups, so
        the cost is linear in the pattern, and at worst quadratic in the length of one unbroken word).

        The page: "Attributes searches are case sensitive. Use full-text search to get case insensitive
        results"; "web*" matches log messages starting with web; wildcards only work outside quotes.
        Both sides are lower-cased: ``in`` and a plain regex are ~3x faster than re.IGNORECASE.
        """
        if not self.wild:
            needle = self.text.lower()
            return lambda s: needle in s.lower()
        head, *rest = (seg.lower() for seg in self.segments)
        found = re.compile(head + "".join(f"(?>\\S*?{seg})" for seg in rest if seg), re.DOTALL).search
        return lambda s: found(s.lower()) is not None


def _text(value: Any) -> str | None:
    """An event value as the text a search compares; None for objects, lists and null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else None


def _number(value: Any) -> int | float | None:
    if type(value) is str:  # float(), not int(): int() refuses strings of more than 4300 digits
        return float(value) if _NUMBER.fullmatch(value) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _on_text(match: _Match) -> _Test:
    def test(value: Any) -> bool:
        if type(value) is str:
            return match(value)
        text = _text(value)
        return text is not None and match(text)

    return test


def _between(low: str | None, low_op: str, high: str | None, high_op: str) -> _Test:
    """Ranges and comparisons: numeric when the bound and the value are numbers, else string order."""
    bounds = ((low_op, low), (high_op, high))
    checks = [(_CMP[op], bound, _number(bound)) for op, bound in bounds if bound is not None]

    def test(value: Any) -> bool:
        text, num = _text(value), _number(value)
        if text is None:
            return False
        for cmp, bound, bound_num in checks:
            if not (cmp(text, bound) if bound_num is None else num is not None and cmp(num, bound_num)):
                return False
        return True

    return test


# --- fields: (get the raw value, use the free-text rules, tag prefix) ----------------------------------

def _collect(node: Any, keys: tuple[str, ...]) -> list[Any]:
    """The general path walk: any Mapping, and lists of objects fan out (the page, "Arrays")."""
    nodes = [node]
    for key in keys:
        step: list[Any] = []
        for item in nodes:
            if isinstance(item, list):
                step.extend(x.get(key) for x in item if isinstance(x, Mapping))
            elif isinstance(item, Mapping):
                step.append(item.get(key))
        nodes = step
    return [leaf for item in nodes for leaf in (item if isinstance(item, list) else [item])]


def _path(keys: tuple[str, ...]) -> _Getter:
    def get(event: Event) -> Any:
        node = event.get("attributes")
        for key in keys:  # fast path for plain dicts; isinstance(x, Mapping) costs ~0.5 us
            if type(node) is dict:
                node = node.get(key)
            elif node is None:
                return None
            else:
                return _collect(event.get("attributes"), keys)
        return node

    return get


def _service(event: Event) -> Any:
    return event.get("service")


def _tags(event: Event) -> Any:
    return event.get("tags")


def _everything(event: Event) -> str:
    """The text of the message, the service and every nested attribute, one per line, for "*:" searches."""
    out, stack = [event.get("message"), event.get("service")], [event.get("attributes")]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(node)
        elif type(node) is dict or isinstance(node, Mapping):
            stack.extend(node.values())
        else:
            out.append(node)
    return "\n".join(text for text in map(_text, out) if text is not None)


_RESERVED: Final[dict[str, _Field]] = {
    "*": (_everything, True, ""),  # the page, "Full-text search": *:term searches all attributes
    "service": (_service, False, ""),
    "status": (_path(("status",)), False, ""),
    "tags": (_tags, False, ""),  # the page, "Tags": tags:<MY_TAG> for tags not in key:value form
}


def _present(value: Any) -> bool:
    return value is not None


def _where(field: _Field, test: _Test) -> Predicate:
    get, _, prefix = field
    if prefix:  # a tag search k:v tests the v of every tag "k:v"
        cut, inner = len(prefix), test

        def test(tag: Any) -> bool:
            return type(tag) is str and tag.startswith(prefix) and inner(tag[cut:])

    def where(event: Event) -> bool:
        value = get(event)
        return any(map(test, value)) if type(value) is list else test(value)

    return where


# --- combinators (balanced trees of two-way closures: no generators, shallow even for long queries) -----

def _always(event: Event) -> bool:
    return True


def _all(parts: list[Predicate]) -> Predicate:
    parts = [p for p in parts if p is not _always]
    if len(parts) <= 1:
        return parts[0] if parts else _always
    left, right = _all(parts[: len(parts) // 2]), _all(parts[len(parts) // 2 :])
    return lambda event: left(event) and right(event)


def _any(parts: list[Predicate]) -> Predicate:
    if len(parts) == 1 or _always in parts:
        return parts[0] if len(parts) == 1 else _always
    left, right = _any(parts[: len(parts) // 2]), _any(parts[len(parts) // 2 :])
    return lambda event: left(event) or right(event)


# --- parser -------------------------------------------------------------------------------------------

class _Parser:
    """Recursive descent straight into closures; ``field`` is set inside ``f:( ... )`` groups."""

    def __init__(self, text: str) -> None:
        self.s, self.n, self.i, self.depth = text, len(text), 0, 0

    def fail(self, problem: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(problem, self.i if pos is None else pos)

    def peek(self, ahead: int = 0) -> str:
        return self.s[self.i + ahead] if self.i + ahead < self.n else ""

    def at_boundary(self, ahead: int, ends: str) -> bool:
        after = self.peek(ahead)
        return after == "" or after.isspace() or after in ends

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i].isspace():
            self.i += 1

    def keyword(self) -> str | None:
        for kw in ("AND", "OR", "NOT"):  # case-sensitive operators (the page, "Overview")
            if self.s.startswith(kw, self.i) and self.at_boundary(len(kw), '()"'):
                return kw
        return None

    def operator(self, kw: str) -> None:
        pos, self.i = self.i, self.i + len(kw)
        self.skip_ws()
        if self.peek() in ("", ")") or self.keyword() in ("AND", "OR"):
            raise self.fail(f"dangling operator '{kw}'", pos)

    def parse(self) -> Predicate:
        self.skip_ws()
        pred = self.or_expr(None) if self.i < self.n else _always
        if self.i < self.n:  # only an unmatched ")" stops or_expr early
            raise self.fail("unbalanced parenthesis")
        return pred

    def or_expr(self, field: _Field | None) -> Predicate:
        parts = [self.and_expr(field)]
        while self.keyword() == "OR":
            self.operator("OR")
            parts.append(self.and_expr(field))
        return _any(parts)

    def and_expr(self, field: _Field | None) -> Predicate:
        parts = [self.unary(field)]
        while True:
            self.skip_ws()
            kw = self.keyword()
            if self.peek() in ("", ")") or kw == "OR":
                return _all(parts)
            if kw == "AND":
                self.operator("AND")
            parts.append(self.unary(field))

    def unary(self, field: _Field | None) -> Predicate:
        negate = False
        while True:
            self.skip_ws()
            if self.keyword() == "NOT":
                self.operator("NOT")
            elif self.peek() == "-":  # the page: "-" excludes the following term
                if self.at_boundary(1, ")"):
                    raise self.fail("dangling operator '-'")
                self.i += 1
            else:
                break
            negate = not negate
        pred = self.primary(field)
        return (lambda event: not pred(event)) if negate else pred

    def primary(self, field: _Field | None) -> Predicate:
        start, c = self.i, self.peek()
        if c == "":
            raise self.fail("expected a search term")
        if c == "(":
            return self.group(field)
        if c == ")":
            raise self.fail("unbalanced parenthesis")
        if (kw := self.keyword()) is not None:
            raise self.fail(f"unexpected operator '{kw}'")
        if field is not None:
            return self.value(field)
        if c in "[]{}":
            raise self.fail(f"unexpected '{c}'")
        word = self.phrase() if c == '"' else self.word(stop_at_colon=True)
        if self.peek() == ":" and c != '"':
            return self.field_term(word, start)
        if c == "@":  # the page: "@" is reserved for attribute search
            raise self.fail("attribute search needs ':' and a value", start)
        if word.is_star():
            return _always
        match = word.search()

        def message(event: Event) -> bool:
            text = event.get("message")
            return match(text) if type(text) is str else match(_text(text) or "")

        return message

    def group(self, field: _Field | None) -> Predicate:
        pos, self.i, self.depth = self.i, self.i + 1, self.depth + 1
        if self.depth > _MAX_DEPTH:
            raise self.fail("too many nested parentheses", pos)
        self.skip_ws()
        if self.peek() in ("", ")"):
            raise self.fail("empty parentheses" if self.peek() else "unbalanced parenthesis", pos)
        pred = self.or_expr(field)
        if self.peek() != ")":
            raise self.fail("unbalanced parenthesis", pos)
        self.i, self.depth = self.i + 1, self.depth - 1
        return pred

    def field_term(self, name: _Word, start: int) -> Predicate:
        field: _Field
        if name.is_star() or (name.text in _RESERVED and not name.wild):
            field = _RESERVED["*" if name.wild else name.text]
        elif name.wild:
            raise self.fail("wildcards are not allowed in a field name", start)
        elif self.s[start] == "@":  # an unescaped "@" starts an attribute path (the page, "Attributes")
            keys = tuple(name.text[1:].split("."))
            if keys == ("",):
                raise self.fail("empty attribute name after '@'", start)
            if "" in keys:
                raise self.fail(f"invalid attribute path '{name.text[1:]}'", start)
            field = (_path(keys), False, "")
        elif not name.text:
            raise self.fail("empty field name")
        else:  # the page, "Tags": env:(prod OR test) matches the tag env:prod or env:test
            field = (_tags, False, name.text + ":")
        self.i += 1
        return self.group(field) if self.peek() == "(" else self.value(field)

    def value(self, field: _Field) -> Predicate:
        c = self.peek()
        if self.at_boundary(0, ")]}"):
            raise self.fail("missing value after ':'")
        if c in "[{<>" and field[1]:
            raise self.fail("ranges and comparisons need a field other than '*'")
        if c in "[{":
            return _where(field, self.range())
        if c in "<>":  # the page, "Numerical values": @http.response_time:>100
            op = c + "=" if self.peek(1) == "=" else c
            self.i += len(op)
            bound = self.bound(f"missing value after '{op}'", open_ok=False)
            low, high = (bound, None) if op[0] == ">" else (None, bound)
            return _where(field, _between(low, op, high, op))
        word = self.phrase() if c == '"' else self.word(stop_at_colon=False)
        if field[2] and not word.wild:  # fast path for the common source:audit
            tag = field[2] + word.text
            return lambda event: type(tags := event.get("tags")) is list and tag in tags
        if word.is_star():  # the page: -@http.status_code:* finds logs without the attribute
            return _where(field, _present)
        return _where(field, _on_text(word.search() if field[1] else word.match()))

    def range(self) -> _Test:
        # the page, "Numerical values": @http.status_code:[400 TO 499]; "{ }" exclusive as in Lucene
        pos, inclusive_low = self.i, self.peek() == "["
        self.i += 1
        self.skip_ws()
        low = self.bound("missing range lower bound", open_ok=True)
        self.skip_ws()
        if not (self.s.startswith("TO", self.i) and self.at_boundary(2, "]}")):
            raise self.fail("expected 'TO' in range")
        self.i += 2
        self.skip_ws()
        high = self.bound("missing range upper bound", open_ok=True)
        self.skip_ws()
        close = self.peek()
        if close == "" or close not in "]}":
            raise self.fail("unclosed range", pos)
        self.i += 1
        return _between(low, ">=" if inclusive_low else ">", high, "<=" if close == "]" else "<")

    def bound(self, missing: str, *, open_ok: bool) -> str | None:
        pos = self.i
        word = self.phrase() if self.peek() == '"' else self.word(stop_at_colon=False)
        if pos == self.i:
            raise self.fail(missing)
        if open_ok and word.is_star():
            return None
        if word.wild:
            raise self.fail("wildcards are not allowed in a range or comparison", pos)
        return word.text

    def phrase(self) -> _Word:
        pos, chars = self.i, list[str]()
        self.i += 1
        while self.i < self.n:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                text = "".join(chars)
                return _Word(text, [re.escape(text)], wild=False)
            if c == "\\" and self.i + 1 < self.n:
                c, self.i = self.s[self.i + 1], self.i + 1
            chars.append(c)
            self.i += 1
        raise self.fail("unbalanced quote", pos)

    def word(self, *, stop_at_colon: bool) -> _Word:
        # the page, "Escape special characters and spaces": a backslash makes the next character literal;
        # "Wildcards": "*" matches any run; "Search wildcard": "?" matches a single character
        text: list[str] = []
        segments: list[list[str]] = [[]]
        wild = False
        while self.i < self.n:
            c = self.s[self.i]
            if c.isspace() or c in '()"[]{}' or (stop_at_colon and c == ":"):
                break
            if c == "\\":
                if self.i + 1 == self.n:
                    raise self.fail("dangling escape '\\'")
                self.i += 1
                c = self.s[self.i]
                segments[-1].append(re.escape(c))
            elif c == "*":
                wild = True
                segments.append([])
            elif c == "?":
                wild = True
                segments[-1].append(".")
            else:
                segments[-1].append(re.escape(c))
            text.append(c)
            self.i += 1
        return _Word("".join(text), ["".join(seg) for seg in segments], wild)
