"""Arithmetic questions: find an expression in a prompt and evaluate it safely."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

_WORDS = (
    (r"\bmultiplied by\b|\btimes\b|\u00d7", "*"),
    (r"\bdivided by\b|\u00f7", "/"),
    (r"\bplus\b|\badded to\b", "+"),
    (r"\bminus\b", "-"),
    (r"\bto the power of\b|\^", "**"),
    (r"(?<=\d)\s*x\s*(?=\d)", "*"),
    (r"(?<=\d)\s+squared\b", "**2"),
    (r"(?<=\d)\s+cubed\b", "**3"),
)
# A run of numbers, operators and brackets holding at least one binary operator.
_EXPRESSION = re.compile(
    r"[-(]*\s*\d+(?:\.\d+)?(?:\s*\)*\s*(?:\*\*|[-+*/%])\s*[-(]*\s*\d+(?:\.\d+)?)+\s*\)*"
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\s+(\d+(?:\.\d+)?)")
_PIECE = re.compile(r"\d+(?:\.\d+)?|\*\*|[-+*/%()]")
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SHOWN = {"*": "\u00d7", "/": "\u00f7", "**": "^"}  # multiplication and division signs
_OPERATORS = {"+", "-", "*", "/", "%", "**"}


def find_expression(text: str) -> str | None:
    """The arithmetic expression a prompt asks about, in Python syntax, if there is one."""
    normalized = text
    for pattern, symbol in _WORDS:
        normalized = re.sub(pattern, symbol, normalized, flags=re.IGNORECASE)
    match = _EXPRESSION.search(normalized)
    if match is None:
        return None
    expression = match.group().strip()
    # Brackets the match cut in half would make the expression unparsable: drop them.
    while expression.count("(") > expression.count(")") and expression.startswith("("):
        expression = expression[1:].strip()
    while expression.count(")") > expression.count("(") and expression.endswith(")"):
        expression = expression[:-1].strip()
    return expression


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise OverflowError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    raise ValueError("not arithmetic")


def safe_evaluate(expression: str) -> float | None:
    """The value of an arithmetic expression in Python syntax, or None if it is not one."""
    try:
        return _evaluate(ast.parse(expression.strip(), mode="eval"))
    except (ValueError, SyntaxError, OverflowError, ZeroDivisionError, RecursionError):
        return None


def format_number(value: float) -> str:
    """A number as a person would write it: `4`, not `4.0`; at most 10 significant digits."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def show_expression(expression: str) -> str:
    """The expression spaced, written with the multiplication and division signs and ^."""
    shown = ""
    glue = True  # no space after an opening bracket, a unary minus, or at the start
    previous = ""
    for piece in _PIECE.findall(expression):
        unary = piece == "-" and (previous == "" or previous in _OPERATORS or previous == "(")
        shown += ("" if glue or piece == ")" else " ") + _SHOWN.get(piece, piece)
        glue = unary or piece == "("
        previous = piece
    return shown


def answer_arithmetic(text: str) -> str | None:
    """`"What is 2+2?"` → `"2 + 2 = 4."`, `"15% of 80"` → `"15% of 80 is 12."`; else None."""
    percent = _PERCENT.search(text)
    if percent:
        share, whole = float(percent.group(1)), float(percent.group(2))
        part = format_number(share * whole / 100)
        return f"{percent.group(1)}% of {percent.group(2)} is {part}."
    expression = find_expression(text)
    if expression is None:
        return None
    shown = show_expression(expression)
    try:
        value = _evaluate(ast.parse(expression, mode="eval"))
    except ZeroDivisionError:
        return f"{shown} is undefined — division by zero has no value."
    except (ValueError, SyntaxError, OverflowError):
        return None
    return f"{shown} = {format_number(value)}."
