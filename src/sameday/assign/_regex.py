"""JavaScript regular expressions (``$regex``, ``$regexi``) run with Python's ``re``, cached.

GrowthBook compiles a condition's pattern with ``new RegExp(pattern)`` (no ``u`` flag). Python's
``re`` reads most such patterns the same way; where the two differ on something a targeting rule
might plausibly write, the pattern is rewritten before compiling:

- ``$`` is the very end of the input in JS, but also "before a final newline" in Python → ``\\Z``;
- ``.`` excludes ``\\r``, U+2028 and U+2029 as well as ``\\n`` in JS;
- ``\\d``, ``\\w`` and ``\\b`` are ASCII-only in JS, and JS's ``\\s`` is its own Unicode list;
- ``(?<name>…)`` and ``\\k<name>`` are JS's named groups; ``[^]`` matches any character and
  ``[]`` nothing; an escaped letter without meaning (``\\e``) is that letter;
- a ``[`` inside a class is literal in JS, and ``&&``, ``||``, ``~~``, ``--`` there draw Python
  warnings, so they are escaped.

A pattern that still fails to compile is "invalid", and the operator is false, as in GrowthBook.
Inside character classes ``\\D``, ``\\W`` and ``\\S`` keep Python's Unicode meaning, and
case-insensitive matching of non-ASCII letters follows Python's rules; both are far from what
attribute targeting needs.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_OUTSIDE = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "b": "(?a:\\b)",
    "B": "(?a:\\B)",
}
_INSIDE = {"d": "0-9", "w": "A-Za-z0-9_", "s": _SPACE}
# Escapes JS gives a meaning to (besides the class shorthands above); other letters are literal.
_MEANINGFUL = set("nrtfvcxu0123456789")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_BACKREFERENCE = re.compile(r"k<([A-Za-z_$][\w$]*)>")


def _translate(pattern: str) -> str:
    """Rewrite a JS (non-unicode) pattern into Python ``re`` syntax with the same meaning."""
    out: list[str] = []
    in_class = False
    i, size = 0, len(pattern)
    while i < size:
        char = pattern[i]
        if char == "\\" and i + 1 < size:
            nxt = pattern[i + 1]
            i += 2
            if nxt == "k" and (named := _BACKREFERENCE.match(pattern, i - 1)):
                out.append(f"(?P={named.group(1)})")
                i = named.end()
            elif in_class and nxt in _INSIDE:
                out.append(_INSIDE[nxt])
            elif not in_class and nxt in _OUTSIDE:
                out.append(_OUTSIDE[nxt])
            elif nxt.isascii() and nxt.isalpha() and nxt not in _MEANINGFUL and nxt not in "bDWS":
                out.append(nxt)
            else:
                out.append("\\" + nxt)
            continue
        if in_class:
            if char == "]":
                in_class = False
                out.append(char)
            elif char in "[&|~" or (char == "-" and out and out[-1] == "-"):
                out.append("\\" + char)
            else:
                out.append(char)
        elif char == "[":
            if pattern.startswith("[^]", i):
                out.append("(?s:.)")
                i += 3
                continue
            if pattern.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append(char)
            if pattern.startswith("[^", i):
                out.append("^")
                i += 1
        elif char == "$":
            out.append("\\Z")
        elif char == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif char == "(" and _NAMED_GROUP.match(pattern, i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_js_regex(pattern: str, ignore_case: bool) -> re.Pattern[str] | None:
    """The compiled pattern, or ``None`` when JS would reject it; cached per (pattern, flag)."""
    flags = re.IGNORECASE if ignore_case else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(_translate(pattern), flags)
    except (re.error, OverflowError, RecursionError, ValueError):
        return None
