"""Literal strings that every match of a regular expression must contain.

``required_literals(pattern)`` reads the pattern's syntax tree (Python's own ``re`` parser) and
returns a set of strings such that any text the pattern matches contains at least one of them,
or None when it cannot name such a set (a match may be nothing but digits or classes). A text
that contains none of the strings cannot match, so one cheap substring test over many texts at
once (Polars' ``str.contains_any``) can spare most texts the regular expression itself.

The guarantee is one-sided: a text containing a literal may still not match.

- Runs of consecutive literal characters become strings; zero-width items (``\\b``, ``^``,
  lookarounds) do not break a run, since they consume nothing.
- A group contributes its own required set; an alternation the union of its branches' sets
  (None if any branch has none); a repeat its body's set when it must occur at least once.
- Optional items, classes and ``.`` require nothing and end the current run.
- ``breaks``: characters a run never crosses and no string contains, for callers that test
  the literals against a text before some characters were rewritten (whitespace always
  breaks a run, so a literal never depends on how spaces were written).

Of a sequence's candidate sets, the one whose shortest string is longest is kept (longer
strings occur in fewer texts). Case-insensitive patterns get None: the literals would have to
be compared without case, which Polars' test does only for ASCII.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

Literals = frozenset[str]

_ZERO_WIDTH = {sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT}
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
if hasattr(sre_constants, "POSSESSIVE_REPEAT"):
    _REPEATS.add(sre_constants.POSSESSIVE_REPEAT)


def required_literals(pattern: str | re.Pattern[str], breaks: str = "") -> Literals | None:
    """Strings one of which every match of ``pattern`` contains (see the module doc)."""
    if isinstance(pattern, re.Pattern):
        flags, source = pattern.flags, pattern.pattern
    else:
        flags, source = 0, pattern
    parsed = sre_parse.parse(source, flags)
    if parsed.state.flags & re.IGNORECASE:
        return None
    stops = set(breaks)
    return _sequence(list(parsed), stops)


def _sequence(items: list, stops: set[str]) -> Literals | None:
    candidates: list[Literals] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, arg in items:
        if op is sre_constants.LITERAL:
            char = chr(arg)
            if char.isspace() or char in stops:
                end_run()
            else:
                run.append(char)
            continue
        if op in _ZERO_WIDTH:
            continue
        end_run()
        found: Literals | None = None
        if op is sre_constants.SUBPATTERN:
            if not arg[1] & re.IGNORECASE:  # (?i:...) inside: its literals are caseless
                found = _sequence(list(arg[-1]), stops)
        elif op is sre_constants.BRANCH:
            branches = [_sequence(list(branch), stops) for branch in arg[1]]
            if all(branches):
                found = frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in _REPEATS:
            low, _high, body = arg
            if low >= 1:
                found = _sequence(list(body), stops)
        if found:
            candidates.append(found)
    end_run()
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))
