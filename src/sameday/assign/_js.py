"""JavaScript value semantics for JSON-shaped Python values, as GrowthBook's conditions use them.

GrowthBook's reference SDK is JavaScript, and its targeting operators lean on JS coercions:
``"8" > 5`` is true, a missing attribute compares as ``0``, ``String(1.0)`` is ``"1"``, strings
order by UTF-16 code units. To give the same answer on every input, the condition evaluators
call these helpers instead of Python's operators. Values are what ``json.loads`` yields (``None``,
``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``); tuples count as arrays and any
``Mapping`` as an object.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

ARRAY = (list, tuple)

# StrWhiteSpaceChar of ECMAScript: what Number("  8 ") trims.
_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_JS_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = re.compile(r"0(?:[xX](?P<x>[0-9a-fA-F]+)|[oO](?P<o>[0-7]+)|[bB](?P<b>[01]+))")
_NUMERIC_PART = re.compile(r"[0-9]+")
# JS's `\+.*$`: `.` stops at any line terminator and `$` is the very end.
_VERSION_TRIM = re.compile("^v|\\+[^\n\r\u2028\u2029]*\\Z")
_VERSION_SPLIT = re.compile(r"[-.]")


def is_number(value: Any) -> bool:
    """A JS number: an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_to_string(value: float) -> str:
    """``String(number)``: shortest round-trip digits, laid out by ECMAScript's rules."""
    if isinstance(value, int) and -(2**53) <= value <= 2**53:
        return str(value)
    x = to_float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or "0") - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    shown = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{shown}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def to_float(value: float) -> float:
    """A Python number as the double JS would hold (huge ints become ±Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_string(value: Any) -> str:
    """``String(value)``: what ``value + ""`` gives in JS."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, ARRAY):
        return ",".join("" if item is None else to_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def to_number(value: Any) -> float:
    """``Number(value)``, the coercion behind ``value * 1`` and mixed ``<``/``>``."""
    if isinstance(value, float):
        return value
    if isinstance(value, int):  # bool included: True is 1
        return to_float(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        return string_to_number(value)
    if isinstance(value, ARRAY):
        return string_to_number(to_string(value))
    return math.nan


def string_to_number(text: str) -> float:
    """ECMAScript StringToNumber: trimmed decimal, ``Infinity`` or 0x/0o/0b literal, else NaN."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    radix = _RADIX.fullmatch(text)
    if radix is None:
        return math.nan
    digits, base = next((d, b) for d, b in zip(radix.groups(), (16, 8, 2), strict=True) if d)
    return to_float(int(digits, base))


def truthy(value: Any) -> bool:
    """JS truthiness: ``null``, ``false``, ``0``, ``NaN`` and ``""`` are false; objects are true."""
    if value is None:
        return False
    if isinstance(value, str | bool):
        return bool(value)
    if isinstance(value, int | float):
        return value == value and value != 0  # NaN != NaN
    return True


def type_of(value: Any) -> str:
    """GrowthBook's ``getType``: null, boolean, number, string, array, object or unknown."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ARRAY):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def strict_equal(a: Any, b: Any) -> bool:
    """``a === b``: same JS type and value; arrays and objects only equal themselves."""
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float):
        return isinstance(b, int | float) and to_float(a) == to_float(b)
    return a is b


def same_value_zero(a: Any, b: Any) -> bool:
    """``Array.prototype.includes`` equality: ``===`` except that NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return strict_equal(a, b)


def includes(array: Any, value: Any) -> bool:
    """``array.includes(value)``."""
    if isinstance(value, str):
        return value in array  # only a str equals a str, so Python's `in` is exact here
    return any(same_value_zero(item, value) for item in array)


def utf16_less(a: str, b: str) -> bool:
    """``a < b`` for JS strings, which order by UTF-16 code units, not code points."""
    if a.isascii() and b.isascii():
        return a < b
    return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")


def _primitive(value: Any) -> Any:
    """ToPrimitive with the number hint, for the JSON shapes: arrays and objects become strings."""
    if isinstance(value, list | tuple | Mapping):
        return to_string(value)
    return value


def less_than(a: Any, b: Any) -> bool | None:
    """ECMAScript's IsLessThan: ``None`` (undefined) when a NaN is involved, so every order test
    on it is false."""
    pa, pb = _primitive(a), _primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        return utf16_less(pa, pb)
    na, nb = to_number(pa), to_number(pb)
    if na != na or nb != nb:
        return None
    return na < nb


def json_equal(a: Any, b: Any) -> bool:
    """``JSON.stringify(a) === JSON.stringify(b)``, compared structurally.

    Non-finite numbers stringify as ``null``; object keys compare in JS property order (integer
    keys ascending first, then insertion order), so ``{"a":1,"b":2}`` differs from
    ``{"b":2,"a":1}`` exactly as it does in GrowthBook.
    """
    if isinstance(a, float) and not math.isfinite(a):
        a = None
    if isinstance(b, float) and not math.isfinite(b):
        b = None
    ta = type_of(a)
    if ta != type_of(b):
        return False
    if ta == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta == "object":
        keys = _js_key_order(a)
        return keys == _js_key_order(b) and all(json_equal(a[k], b[k]) for k in keys)
    if ta == "number":
        return to_float(a) == to_float(b)
    return bool(a == b)


def _is_index_key(key: Any) -> bool:
    """A canonical array-index property name such as ``"0"`` or ``"17"`` (not ``"01"``)."""
    return (
        isinstance(key, str)
        and key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) < 2**32 - 1
    )


def _js_key_order(obj: Mapping[Any, Any]) -> list[Any]:
    """Keys in the order JS enumerates them: integer keys ascending, then insertion order."""
    keys = list(obj)
    indices = sorted((k for k in keys if _is_index_key(k)), key=int)
    if not indices:
        return keys
    return indices + [k for k in keys if not _is_index_key(k)]


def padded_version(value: Any) -> str:
    """GrowthBook's ``paddedVersionString``: a string whose order is the version order.

    Drops a leading ``v`` and any ``+build``, splits on ``-`` and ``.``, appends ``~`` to a plain
    ``x.y.z`` (so a release sorts after its pre-releases) and left-pads numeric parts to width 5
    with spaces. Numbers are read as their JS string; anything else non-string is ``"0"``.
    """
    if is_number(value):
        value = number_to_string(value)
    if not value or not isinstance(value, str):
        value = "0"
    return _pad_version(value)


@lru_cache(maxsize=4096)
def _pad_version(value: str) -> str:
    parts = _VERSION_SPLIT.split(_VERSION_TRIM.sub("", value))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(p.rjust(5) if _NUMERIC_PART.fullmatch(p) else p for p in parts)
