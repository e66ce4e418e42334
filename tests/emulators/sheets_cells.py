"""Cell values in and out: RAW and USER_ENTERED input, and the three render options.

Formulas are evaluated once, when written (arithmetic and references to plain cells of
the same sheet); the emulator does not recalculate them when other cells change.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from collections.abc import Callable
from typing import Any

from tests.emulators.sheets_a1 import column_index
from tests.emulators.sheets_model import Cell

EPOCH = dt.datetime(1899, 12, 30)
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_PERCENT = re.compile(r"^[+-]?\d+(\.(\d+))?%$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(:(\d{2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(:(\d{2}))?$")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
_DATE_TYPES = {"DATE", "TIME", "DATE_TIME"}

Lookup = Callable[[int, int], Cell | None]


def serial(moment: dt.datetime) -> float | int:
    delta = moment - EPOCH
    value = delta.days + delta.seconds / 86400
    return int(value) if value == int(value) else value


def from_serial(value: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=value)


def user_entered(text: str, lookup: Lookup) -> Cell | None:
    """What Google makes of a string typed into a cell."""
    if text == "":
        return None
    if text.startswith("'"):
        return Cell(text[1:])
    if text.startswith("="):
        return Cell(evaluate(text, lookup), formula=text)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Cell(stripped.upper() == "TRUE")
    if _NUMBER.match(stripped) and any(ch.isdigit() for ch in stripped):
        number = float(stripped.replace(",", ""))
        if "," in stripped:
            decimals = len(stripped.partition(".")[2])
            pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
            return Cell(number, number_format=("NUMBER", pattern))
        return Cell(number)
    m = _PERCENT.match(stripped)
    if m:
        decimals = len(m.group(2) or "")
        pattern = "0" + ("." + "0" * decimals if decimals else "") + "%"
        return Cell(float(stripped[:-1]) / 100, number_format=("PERCENT", pattern))
    moment = _typed_moment(stripped)
    if moment is not None:
        return moment
    return Cell(text)


def _typed_moment(text: str) -> Cell | None:
    try:
        if m := _ISO_DATE.match(text):
            day = dt.datetime(int(m[1]), int(m[2]), int(m[3]))
            return Cell(serial(day), number_format=("DATE", "yyyy-mm-dd"))
        if m := _ISO_DATETIME.match(text):
            moment = dt.datetime(
                int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[7] or 0)
            )
            return Cell(serial(moment), number_format=("DATE_TIME", "yyyy-mm-dd h:mm:ss"))
        if m := _US_DATE.match(text):
            day = dt.datetime(int(m[3]), int(m[1]), int(m[2]))
            return Cell(serial(day), number_format=("DATE", "M/d/yyyy"))
        if m := _TIME.match(text):
            hour, minute, second = int(m[1]), int(m[2]), int(m[4] or 0)
            if hour < 24 and minute < 60 and second < 60:
                value = (hour * 3600 + minute * 60 + second) / 86400
                return Cell(value, number_format=("TIME", "h:mm:ss" if m[3] else "h:mm"))
    except ValueError:
        return None
    return None


def raw(value: Any) -> Cell | None:
    """RAW input: stored exactly as sent; a string is always a string."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, int | float):
        return Cell(float(value))
    return Cell(str(value))


def entered(value: Any, option: str, lookup: Lookup) -> Cell | None:
    if option == "USER_ENTERED" and isinstance(value, str):
        return user_entered(value, lookup)
    return raw(value)


_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(formula: str, lookup: Lookup) -> str | float | bool:
    """Arithmetic with numbers and same-sheet cell references; else Google's error value."""
    source = _REF.sub(lambda m: f"_ref({m[2]},{column_index(m[1])})", formula[1:].strip().upper())
    try:
        tree = ast.parse(source.replace("^", "**"), mode="eval")
        result = _eval(tree.body, lookup)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError, TypeError, KeyError):
        return "#NAME?"
    return float(result)


def _eval(node: ast.AST, lookup: Lookup) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_eval(node.left, lookup), _eval(node.right, lookup)))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_eval(node.operand, lookup)))
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_ref":
        row, col = (int(getattr(a, "value", 0)) for a in node.args)
        cell = lookup(row - 1, col)
        if cell is None:
            return 0.0
        if isinstance(cell.value, bool | str):
            raise ValueError(cell.value)
        return float(cell.value)
    raise ValueError(ast.dump(node))


def _number(value: float) -> int | float:
    return int(value) if value == int(value) and abs(value) < 2**53 else value


def general(value: float) -> str:
    """Google's automatic number format."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10g}"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        return f"{float(mantissa):.2f}E{int(exponent):+03d}"
    return text


def render(cell: Cell, value_option: str, date_option: str) -> Any:
    """A cell as valueRenderOption / dateTimeRenderOption ask."""
    value = cell.value
    if value_option == "FORMULA" and cell.formula is not None:
        return cell.formula
    if value_option == "FORMATTED_VALUE":
        return formatted(cell)
    if isinstance(value, bool | str):
        return value
    kind = cell.number_format[0] if cell.number_format else ""
    if kind in _DATE_TYPES and date_option == "FORMATTED_STRING":
        return formatted(cell)
    return _number(value)


def formatted(cell: Cell) -> str:
    value = cell.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    if cell.number_format is None:
        return general(value)
    kind, pattern = cell.number_format
    if kind in _DATE_TYPES:
        return format_moment(from_serial(value), pattern)
    if kind == "PERCENT":
        decimals = len(pattern.partition(".")[2].rstrip("%"))
        return f"{value * 100:.{decimals}f}%"
    decimals = len(pattern.partition(".")[2])
    return f"{value:,.{decimals}f}" if "," in pattern else f"{value:.{decimals}f}"


_TOKEN = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|.", re.IGNORECASE)


def format_moment(moment: dt.datetime, pattern: str) -> str:
    """Render a date/time pattern of Google's number formats (the common tokens)."""
    tokens = _TOKEN.findall(pattern)
    out = []
    for i, token in enumerate(tokens):
        low = token.lower()
        after_hour = any(t.lower() in ("h", "hh") for t in tokens[max(0, i - 2) : i])
        before_second = any(t.lower() in ("s", "ss") for t in tokens[i + 1 : i + 3])
        minute = low in ("m", "mm") and (after_hour or before_second)
        twelve = any(t.lower() == "am/pm" for t in tokens)
        hour = moment.hour % 12 or 12 if twelve else moment.hour
        out.append(
            {
                "yyyy": f"{moment.year:04d}",
                "yy": f"{moment.year % 100:02d}",
                "mmmm": moment.strftime("%B"),
                "mmm": moment.strftime("%b"),
                "mm": f"{moment.minute:02d}" if minute else f"{moment.month:02d}",
                "m": str(moment.minute) if minute else str(moment.month),
                "dddd": moment.strftime("%A"),
                "ddd": moment.strftime("%a"),
                "dd": f"{moment.day:02d}",
                "d": str(moment.day),
                "hh": f"{hour:02d}",
                "h": str(hour),
                "ss": f"{moment.second:02d}",
                "s": str(moment.second),
                "am/pm": "AM" if moment.hour < 12 else "PM",
            }.get(low, token)
        )
    return "".join(out)
