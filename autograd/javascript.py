"""``Program.javascript``: a traced program's ``value_and_grad`` written out as JavaScript.

Two parts, kept apart so that either can change without the other:

- ``expression(node, names)`` translates one Python expression (an ``ast.expr``: the
  arithmetic ``+ - * / **``, unary minus, comparisons, ``a if test else b``, numbers, names
  and calls of the op helpers ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``, ``sqrt``,
  ``sin``, ``cos``, ``abs``, ``div``, ``pow``, ...) into a JavaScript expression, with the
  operands' names replaced as ``names`` says. The op rules are read as Python ASTs from the
  rule functions' own source (``autograd/ops.py``, see ``rule_expressions``), so the
  JavaScript computes what the Python replay computes, op by op, in the same order.
- ``javascript(prog)`` walks a Program's recorded instructions and emits one function,
  ``valueAndGrad(args, leaves)``: the forward statements, then the reverse pass as one
  chain-rule statement per edge in the order of ``prog.source``, returning
  ``{value, grads, leafGrads}``. A short prelude defines the helpers with the Python
  functions' maths (sigmoid's two branches, the domain errors thrown as ``Error``s worded as
  the engine words them).

What reaches the JavaScript: names (the program's own, from the same identifier rules as
``prog.source``; one that JavaScript reserves is renamed), numbers (``repr`` of floats,
``Infinity``/``NaN``) and the fixed text written here. Nothing else a user typed.

>>> from autograd import trace
>>> prog = trace(lambda x, y: (x * y).tanh(), 0.5, -1.0)
>>> print(prog.javascript.split("function valueAndGrad")[1].strip())  # doctest: +ELLIPSIS
(args, leaves) {
  const x = args[0];
  const y = args[1];
  const v1 = x * y;
  const v2 = tanh(v1);
  // the reverse pass: each edge adds upstream * local to its operand's gradient
  let g_v2 = 1.0;
  let g_v1 = g_v2 * (1.0 - v2 * v2);
  let g_x = g_v1 * y;
  let g_y = g_v1 * x;
  return {value: v2, grads: [g_x, g_y], leafGrads: []};
}
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["expression", "javascript", "rule_expressions", "number", "PRELUDE", "HELPERS"]

# The prelude: the functions the op rules call, with the maths of autograd/ops.py's float
# functions (and Python's float ** for ``**`` in a rule: ``1 ** nan`` is 1 there).
PRELUDE = r"""// helpers: the same maths as autograd's functions on floats (autograd/functions.py)
function show(x) { return Number.isInteger(x) && Math.abs(x) < 1e16 ? x.toFixed(1) : String(x); }
function fail(op, reason, call) { throw new Error(op + ": " + reason + ", at " + call); }
function floatPow(a, b) {  // Python's float a ** b: 1 ** nan and (-1) ** inf are 1
  if (a === 1 || b === 0) return 1.0;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1.0;
  return Math.pow(a, b);
}
function divide(a, b) {
  if (b === 0) fail("/", "division by zero", show(a) + " / " + show(b));
  return a / b;
}
function ratio(a, b) { return a / b; }  // IEEE: +-Infinity where b is 0, as numpy
function power(a, b) {
  const call = show(a) + " ** " + show(b);
  if (a === 0 && b < 0) fail("**", "0 cannot be raised to a negative power", call);
  if (a < 0 && a > -Infinity && Number.isFinite(b) && !Number.isInteger(b)) {
    fail("**", "a negative base needs an integer exponent", call);
  }
  const out = floatPow(a, b);
  if (!Number.isFinite(out) && Number.isFinite(a) && Number.isFinite(b)) {
    fail("**", "result overflows a float", call);
  }
  return out;
}
function power_base_slope(a, b, out) {  // d(a ** b)/da
  if (a !== 0 || b >= 1) {
    const p = floatPow(a, b - 1);
    if (!Number.isFinite(p) && Number.isFinite(a) && Number.isFinite(b)) return b * out / a;
    return b * p;
  }
  return b <= 0 ? 0.0 : Infinity;
}
function power_exponent_slope(a, out) {  // d(a ** b)/db
  return a > 0 ? Math.log(a) * out : (a <= 0 ? 0.0 : NaN);
}
function exp(x) {
  const out = Math.exp(x);
  if (out === Infinity && x !== Infinity) {
    fail("exp", "result overflows a float (exp(x) for x > 709.78)", "exp(" + show(x) + ")");
  }
  return out;
}
function log(x) {
  if (x <= 0) fail("log", "input must be > 0", "log(" + show(x) + ")");
  return Math.log(x);
}
function sqrt(x) {
  if (x < 0) fail("sqrt", "input must be >= 0", "sqrt(" + show(x) + ")");
  return Math.sqrt(x);
}
function tanh(x) { return Math.tanh(x); }
function sigmoid(x) {  // two branches, so that exp never overflows
  if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
  const z = Math.exp(x);
  return z / (1.0 + z);
}
function relu(x) { return x <= 0 ? 0.0 : x; }  // nan stays nan
function sin(x) { return -Infinity < x && x < Infinity ? Math.sin(x) : NaN; }
function cos(x) { return -Infinity < x && x < Infinity ? Math.cos(x) : NaN; }
function absolute(x) { return Math.abs(x); }
function step(x) { return x > 0 ? 1.0 : 0.0; }
function sign(x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
"""

# The functions a rule may call (autograd/functions.py) -> the prelude's of the same maths.
HELPERS = {
    name: name
    for name in (
        "divide",
        "ratio",
        "power",
        "power_base_slope",
        "power_exponent_slope",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "relu",
        "sin",
        "cos",
        "absolute",
        "step",
        "sign",
    )
}
_CONSTANTS = {"inf": "Infinity", "nan": "NaN", "True": "true", "False": "false"}

# Names a program's value may not take in JavaScript: its reserved words, the globals the
# code uses, the prelude's functions and the function's own parameters.
JS_RESERVED = frozenset(
    """break case catch class const continue debugger default delete do else enum export
    extends false finally for function if import in instanceof new null return super switch
    this throw true try typeof var void while with yield let static implements interface
    package private protected public await async of arguments eval undefined NaN Infinity
    Math Number String Error Object Array JSON console globalThis window document self
    args leaves valueAndGrad show fail power value grads leafGrads""".split()
) | frozenset(HELPERS.values())

# JavaScript precedences (higher binds tighter).
_ATOM, _UNARY, _MUL, _ADD, _REL, _EQ, _AND, _OR, _COND = 20, 14, 12, 11, 9, 8, 4, 3, 2
_BINARY = {ast.Add: ("+", _ADD), ast.Sub: ("-", _ADD), ast.Mult: ("*", _MUL), ast.Div: ("/", _MUL)}
_COMPARE = {
    ast.Lt: ("<", _REL),
    ast.LtE: ("<=", _REL),
    ast.Gt: (">", _REL),
    ast.GtE: (">=", _REL),
    ast.Eq: ("===", _EQ),
    ast.NotEq: ("!==", _EQ),
}


def number(x: Any) -> str:
    """A number as a JavaScript literal: ``repr`` of the float, ``NaN``, ``Infinity``."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def _precedence_of_text(text: str) -> int:
    """A name or number substituted for an operand: a negative literal reads as unary."""
    return _UNARY if text.startswith("-") else _ATOM


def _translate(node: ast.expr, names: Mapping[str, str]) -> tuple[str, int]:
    """(JavaScript text, its precedence)."""

    def wrap(child: ast.expr, at_least: int) -> str:
        text, prec = _translate(child, names)
        return f"({text})" if prec < at_least else text

    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float)):
            text = number(node.value)
            return text, _precedence_of_text(text)
        raise ValueError(f"javascript: the constant {node.value!r} is not a number")
    if isinstance(node, ast.Name):
        if node.id in names:
            text = names[node.id]
            return text, _precedence_of_text(text)
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id], _ATOM
        raise ValueError(f"javascript: the name {node.id!r} is not an operand of the rule")
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):  # Python's float ** (see power in the prelude)
            left, _ = _translate(node.left, names)
            right, _ = _translate(node.right, names)
            return f"power({left}, {right})", _ATOM
        if type(node.op) not in _BINARY:
            raise ValueError(f"javascript: the operator {type(node.op).__name__} is not supported")
        symbol, prec = _BINARY[type(node.op)]
        # left-associative: the right operand of equal precedence keeps its parentheses, so
        # floats are combined in the order Python combines them
        return f"{wrap(node.left, prec)} {symbol} {wrap(node.right, prec + 1)}", prec
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return f"-{wrap(node.operand, _UNARY)}", _UNARY
        if isinstance(node.op, ast.UAdd):
            return f"+{wrap(node.operand, _UNARY)}", _UNARY
        if isinstance(node.op, ast.Not):
            return f"!{wrap(node.operand, _UNARY)}", _UNARY
        raise ValueError(f"javascript: the operator {type(node.op).__name__} is not supported")
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                raise ValueError(f"javascript: the comparison {type(op).__name__} is not supported")
            symbol, prec = _COMPARE[type(op)]
            parts.append(f"{wrap(left, prec)} {symbol} {wrap(right, prec + 1)}")
            left = right
        if len(parts) == 1:
            return parts[0], _COMPARE[type(node.ops[0])][1]
        return " && ".join(parts), _AND  # a < b < c: both, b evaluated twice (a pure name)
    if isinstance(node, ast.BoolOp):
        symbol, prec = ("&&", _AND) if isinstance(node.op, ast.And) else ("||", _OR)
        return f" {symbol} ".join(wrap(v, prec + 1) for v in node.values), prec
    if isinstance(node, ast.IfExp):
        test = wrap(node.test, _COND + 1)
        return f"{test} ? {wrap(node.body, _COND)} : {wrap(node.orelse, _COND)}", _COND
    if isinstance(node, ast.Call):
        func = node.func
        # a helper by name (``tanh(x)``) or through a helper module (``F.tanh(x)``)
        name = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = func.attr
        if name not in HELPERS or node.keywords:
            raise ValueError(f"javascript: the call of {ast.unparse(func)!r} is not supported")
        args = ", ".join(_translate(a, names)[0] for a in node.args)
        return f"{HELPERS[name]}({args})", _ATOM
    raise ValueError(f"javascript: the expression {type(node).__name__} is not supported")


def expression(node: ast.expr, names: Mapping[str, str]) -> str:
    """A Python expression (an AST node) as a JavaScript expression: each name that
    ``names`` maps (an op rule's operands ``a``, ``b``, ``x`` and its result ``out``) becomes
    its JavaScript text (a name or a number), ``inf`` is ``Infinity``, helper calls call
    the prelude's functions and ``**`` is Python's float power. Anything else is a
    ``ValueError``.

    >>> import ast
    >>> expression(ast.parse("1.0 - out * out", mode="eval").body, {"out": "v2"})
    '1.0 - v2 * v2'
    >>> expression(ast.parse("0.5 / out if out > 0 else inf", mode="eval").body, {"out": "r"})
    'r > 0 ? 0.5 / r : Infinity'
    """
    return _translate(node, names)[0]


def rule_expressions(op: Any) -> tuple[ast.expr, tuple[ast.expr, ...], tuple[str, ...]]:
    """An op's rule as ASTs: (forward, one local derivative per operand, the operand names),
    read from the rule function's own source (``codegen.RuleCode``), as ``prog.source`` is."""
    from .codegen import RuleCode

    if getattr(op, "user_defined", False) or op.table is None or op.table.kind != "elementwise":
        what = "a primitive" if getattr(op, "user_defined", False) else "an array op"
        raise ValueError(
            f"javascript: {what} ({op.name!r}) has no JavaScript translation: javascript "
            f"takes programs of the built-in elementwise ops"
        )
    code = RuleCode.of(op.rule)
    return code.forward, tuple(code.locals), tuple(code.params)


def _is_one(node: ast.expr, sign: float) -> bool:
    """The literal 1.0 (sign 1) or -1.0 (sign -1): the gradient passes on or is negated."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_one(node.operand, -sign)
    return (
        isinstance(node, ast.Constant) and node.value == sign and not isinstance(node.value, bool)
    )


def javascript(prog: Any) -> str:
    """The JavaScript source of ``prog.value_and_grad`` plus the captured leaves' gradients:
    the prelude, then ``function valueAndGrad(args, leaves)``."""
    if getattr(prog, "_arrays", False):
        raise TypeError(
            "javascript is for programs traced with number arguments; this program was traced "
            "with arrays (a Tensor program)"
        )
    return PRELUDE + "\n" + _Writer(prog).write()


class _Writer:
    def __init__(self, prog: Any) -> None:
        self.prog = prog
        self.names: dict[int, str] = {}
        self.lines: list[str] = []
        self._rename()

    def _rename(self) -> None:
        """The program's names, except where JavaScript reserves one: then a fresh name."""
        prog = self.prog
        variables = [*prog._inputs, *prog._captured, *(s.out for s in prog._steps)]
        taken = {v.name for v in variables} | set(JS_RESERVED)
        counters: dict[str, int] = {}
        for var in variables:
            name = var.name
            if name in JS_RESERVED:
                prefix = {"input": "x", "raw": "x", "captured": "p"}.get(var.role, "v")
                while True:
                    counters[prefix] = counters.get(prefix, 0) + 1
                    name = f"{prefix}{counters[prefix]}"
                    if name not in taken:
                        break
                taken.add(name)
            self.names[id(var)] = name

    def name(self, var: Any) -> str:
        if var.role == "const":
            return number(var.value)
        return self.names[id(var)]

    def write(self) -> str:
        prog, emit = self.prog, self.lines.append
        emit("function valueAndGrad(args, leaves) {")
        for var in prog._inputs:
            if var.role == "input":
                emit(f"  const {self.name(var)} = args[{var.index}];")
        for var in prog._captured:
            emit(f"  const {self.name(var)} = leaves[{var.index}];")
        guards = self._guards()
        for line in guards.get(-1, []):
            emit(line)
        for k, step in enumerate(prog._steps):
            forward, _, operands = rule_expressions(step.op)
            mapping = dict(zip(operands, (self.name(v) for v in step.operands)))
            emit(f"  const {self.name(step.out)} = {expression(forward, mapping)};")
            for line in guards.get(k, []):
                emit(line)
        wanted = {id(v) for v in prog._inputs if v.role == "input"}
        wanted |= {id(v) for v in prog._captured}
        grads = self._backward(self.prog._gradient_needs(wanted))
        value = self.name(prog._root)

        def gradient(var: Any) -> str:
            if var.role != "input":
                return "null"
            return grads.get(id(var), "0.0")

        inputs = ", ".join(gradient(v) for v in prog._inputs)
        leaves = ", ".join(grads.get(id(v), "0.0") for v in prog._captured)
        emit(f"  return {{value: {value}, grads: [{inputs}], leafGrads: [{leaves}]}};")
        emit("}")
        return "\n".join(self.lines) + "\n"

    def _backward(self, needs: set[int]) -> dict[int, str]:
        """One statement per edge, in the engine's order (as ``prog.source``)."""
        prog, emit = self.prog, self.lines.append
        root = prog._root
        grads: dict[int, str] = {}
        if id(root) not in needs:
            return grads
        emit("  // the reverse pass: each edge adds upstream * local to its operand's gradient")
        grads[id(root)] = f"g_{self.name(root)}"
        emit(f"  let g_{self.name(root)} = 1.0;")
        for step in prog._backward_steps:
            if id(step.out) not in needs:
                continue
            upstream = grads[id(step.out)]
            _, derivatives, operands = rule_expressions(step.op)
            mapping = dict(zip(operands, (self.name(v) for v in step.operands)))
            mapping["out"] = self.name(step.out)
            for k, operand in enumerate(step.operands):
                if operand.role not in ("input", "captured", "step") or id(operand) not in needs:
                    continue
                local = derivatives[k]
                if _is_one(local, 1.0):
                    contribution = upstream
                elif _is_one(local, -1.0):
                    contribution = f"-{upstream}"
                else:
                    text, prec = _translate(local, mapping)
                    contribution = f"{upstream} * {text if prec == _ATOM else f'({text})'}"
                g = f"g_{self.name(operand)}"
                if id(operand) not in grads:
                    grads[id(operand)] = g
                    emit(f"  let {g} = {contribution};")
                else:
                    emit(f"  {g} += {contribution};")
        return grads

    def _guards(self) -> dict[int, list[str]]:
        """Each recorded comparison, checked where its operands are defined: one that comes
        out the other way throws an Error naming it."""
        prog = self.prog
        position = {id(step.out): k for k, step in enumerate(prog._steps)}
        out: dict[int, list[str]] = {}
        for number_, (symbol, a, b, result) in enumerate(prog._guards):
            k = max(position.get(id(a), -1), position.get(id(b), -1))
            js_symbol = {"==": "===", "!=": "!=="}.get(symbol, symbol)
            left, right = self.name(a), self.name(b)
            left = f"({left})" if left.startswith("-") else left
            right = f"({right})" if right.startswith("-") else right
            test = f"{left} {js_symbol} {right}"
            fails = f"!({test})" if result else test
            said = f"{self.name(a)} {symbol} {self.name(b)}"  # names and numbers only
            head = json.dumps(
                f"guard {number_}: {said} was {str(result).lower()} when the program was "
                f"traced and is not now ("
            )
            tail = json.dumps(
                "): the program only knows the traced branch; trace again with inputs that "
                "take this one"
            )
            message = f'{head} + {left} + " vs " + {right} + {tail}'
            out.setdefault(k, []).append(f"  if ({fails}) throw new Error({message});")
        return out
