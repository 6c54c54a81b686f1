"""The op rules: each op's forward and its local derivatives, side by side, in plain Python.

A rule takes its operands' data and returns the result and the local derivative of the
result with respect to each operand (d out / d operand)::

    def mul(a, b):
        out = a * b
        return out, (b, a)

That is all an op is. The machinery (``engine.py``) knows no op: it calls a rule, keeps the
local derivatives on the node it makes, and the reverse pass multiplies each node's
upstream gradient by them. The same rule serves every caller:

- ``Value`` (operands are floats) and ``Tensor`` (numpy arrays, elementwise; where an
  operand was broadcast the engine sums its gradient back to the operand's shape);
- ``backward(create_graph=True)``, which calls the rule on the parent nodes, so the local
  derivatives it returns are recorded ops that can be differentiated again;
- ``trace``, whose generated code is the rule's own body, read from its source (``ast``)
  with the program's names put in.

So a rule uses arithmetic, comparisons and the functions of ``functions.py`` (``F.exp``...),
which do the right thing for floats, arrays and nodes, never ``math`` or numpy directly.

To add an elementwise op (say ``softsign``), write its rule and a row of the table::

    def softsign(x):
        out = x / (1.0 + F.absolute(x))
        return out, (1.0 / ((1.0 + F.absolute(x)) * (1.0 + F.absolute(x))),)

    ELEMENTWISE_OPS.add(Op("softsign", softsign))

and nothing else: ``Value.softsign`` and ``Tensor.softsign`` exist from then on, the command
line's expressions accept ``softsign(x)``, and ``autograd.testing.strategies`` draws it
(``guards`` tells it where an operand must stay: ``"positive"``, ``"nonzero"`` or
``"off_kink"``; ``kink`` tells gradcheck where the derivative is a convention). Ops that only
arrays have (``@``, ``sum``, indexing...) are rows of ``tensor_ops.TENSOR_OPS``, of the same
``Op`` type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from . import functions as F

# Operator symbols and the methods they become (the reflected one for a number on the left).
SYMBOL_METHODS = {
    "+": ("__add__", "__radd__"),
    "-": ("__sub__", "__rsub__"),
    "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"),
    "**": ("__pow__", "__rpow__"),
    "@": ("__matmul__", "__rmatmul__"),
}
UNARY_METHODS = {"neg": ("__neg__",), "abs": ("abs", "__abs__")}
GUARDS = ("positive", "nonzero", "off_kink")  # where strategies keep an operand (see above)


# --- the rules ------------------------------------------------------------------------


def add(a, b):
    out = a + b
    return out, (1.0, 1.0)


def sub(a, b):
    out = a - b
    return out, (1.0, -1.0)


def mul(a, b):
    out = a * b
    return out, (b, a)


def div(a, b):
    out = F.divide(a, b)
    return out, (1.0 / b, -out / b)


def power(a, b):
    out = F.power(a, b)
    return out, (F.power_base_slope(a, b, out), F.power_exponent_slope(a, out))


def neg(x):
    out = -x
    return out, (-1.0,)


def exp(x):
    out = F.exp(x)
    return out, (out,)


def log(x):
    out = F.log(x)
    return out, (1.0 / x,)


def tanh(x):
    out = F.tanh(x)
    return out, (1.0 - out * out,)


def sigmoid(x):
    out = F.sigmoid(x)
    return out, (out * (1.0 - out),)


def relu(x):
    out = F.relu(x)
    return out, (F.step(x),)


def sqrt(x):
    out = F.sqrt(x)
    return out, (F.ratio(0.5, out),)


def sin(x):
    out = F.sin(x)
    return out, (F.cos(x),)


def cos(x):
    out = F.cos(x)
    return out, (-F.sin(x),)


def absolute(x):
    out = F.absolute(x)
    return out, (F.sign(x),)


# --- the row type and the tables -------------------------------------------------------


class Op:
    """One row of an op table: a name, its rule, and what else callers need to know.

    ``rule(*operands, *params) -> (out, local_grads)``; ``params`` names the parameters it
    takes after its operands (a reduction's axis, say), which nodes keep. ``kink(*xs,
    *params, within=0.0) -> bool`` says whether an operand sits within ``within`` of a point
    where the derivative is a convention (relu and abs at 0); ``guards`` (one per operand, a
    name of ``GUARDS`` or None) where random expressions must keep an operand; ``check(*operands)``
    may refuse operands before the rule runs. A ``primitive`` has ``derivative(*xs, out)``
    too, called on nodes under create_graph (its rule's forward is written for numbers only),
    and takes any number of operands (``arity`` None).
    """

    __slots__ = (
        "name",
        "rule",
        "arity",
        "params",
        "kink",
        "guards",
        "check",
        "derivative",
        "forward",
        "user_defined",
        "table",
    )

    def __init__(
        self,
        name: str,
        rule: Callable[..., tuple],
        *,
        params: tuple[str, ...] = (),
        kink: Callable[..., bool] | None = None,
        guards: tuple = (),
        check: Callable[..., None] | None = None,
        derivative: Callable[..., tuple] | None = None,
        user_defined: bool = False,
    ) -> None:
        self.name = name
        self.rule = rule
        self.params = params
        self.derivative = derivative
        self.forward: Callable[..., Any] | None = None  # a primitive's, for traces' code
        self.arity = None if derivative is not None else _arity(rule) - len(params)
        self.kink = kink
        self.guards = guards or (None,) * (self.arity or 0)
        self.check = check
        self.user_defined = user_defined
        self.table: OpTable | None = None

    @property
    def symbol(self) -> bool:
        """Written infix (``a * b``) rather than as a function (``tanh(x)``)."""
        return self.name in SYMBOL_METHODS

    @property
    def methods(self) -> tuple[str, ...]:
        """The node methods this row becomes: ``__mul__`` and ``__rmul__``, ``tanh``..."""
        if self.name in SYMBOL_METHODS:
            return SYMBOL_METHODS[self.name]
        return UNARY_METHODS.get(self.name, (self.name,))

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _arity(rule: Callable) -> int:
    return sum(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(rule).parameters.values()
    )


class OpTable:
    """The rows of one table, by name. Node classes register an installer that gives them a
    row's methods; ``add(row)`` at run time installs them at once (and ``remove(name)``
    takes them away): adding an op is adding a row.
    """

    def __init__(self, kind: str, rows: list[Op]) -> None:
        self.kind = kind
        self._rows: dict[str, Op] = {}
        self._installers: list[Callable[[Op], None]] = []
        self._removers: list[Callable[[Op], None]] = []
        for row in rows:
            self.add(row)

    def add(self, row: Op) -> Op:
        if row.name in self._rows:
            raise ValueError(f"{self.kind} op table: an op named {row.name!r} exists already")
        row.table = self
        self._rows[row.name] = row
        for install in self._installers:
            install(row)
        return row

    def remove(self, name: str) -> None:
        row = self._rows.pop(name)
        for remove in self._removers:
            remove(row)

    def install(self, install: Callable[[Op], None], remove: Callable[[Op], None]) -> None:
        """Register a node class's installer: run now on every row, later on new rows."""
        self._installers.append(install)
        self._removers.append(remove)
        for row in self._rows.values():
            install(row)

    def __getitem__(self, name: str) -> Op:
        return self._rows[name]

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self) -> Iterator[Op]:
        return iter(list(self._rows.values()))

    def functions(self) -> tuple[str, ...]:
        """The one-operand ops called like functions: ``exp``, ``tanh``, ... (what the
        command line's expressions may call)."""
        return tuple(
            r.name
            for r in self
            if r.arity == 1 and not r.params and not r.methods[0].startswith("__")
        )


def _positive_base_for_node_exponent(a: Any, b: Any) -> None:
    # d (a ** b) / d b = log(a) * a ** b exists only for a > 0 (nan data propagates). A
    # Value's rule; arrays follow numpy (nan where the base is negative), as PyTorch.
    base = a.data if F._is_node(a) else a
    if F._is_node(b) and base.__class__ is float and not base > 0:
        if base != base:
            return
        raise ValueError(
            f"**: a Value exponent needs a base > 0 (d/db = log(a) * a**b), got base {base!r}"
        )


def _at_zero(x: Any, *params: Any, within: float = 0.0) -> bool:
    return F.near_zero(x, within)


# Leaves have no op. Constants (numbers an op wrapped) are leaves too, with their own marker.
LEAF = Op("", lambda: None)
CONSTANT = Op("", lambda: None)

# The ops of both node kinds (a Value's on floats, a Tensor's elementwise on arrays).
# fmt: off
ELEMENTWISE_OPS = OpTable("elementwise", [
    Op("+",       add),
    Op("-",       sub),
    Op("*",       mul),
    Op("/",       div,      guards=(None, "nonzero")),
    Op("**",      power,    check=_positive_base_for_node_exponent),
    Op("neg",     neg),
    Op("exp",     exp),
    Op("log",     log,      guards=("positive",)),
    Op("tanh",    tanh),
    Op("sigmoid", sigmoid),
    Op("relu",    relu,     kink=_at_zero, guards=("off_kink",)),
    Op("sqrt",    sqrt,     guards=("positive",)),
    Op("sin",     sin),
    Op("cos",     cos),
    Op("abs",     absolute, kink=_at_zero, guards=("off_kink",)),
])
# fmt: on


def describe_call(name: str, xs: tuple) -> str:
    """How an op application reads in an error message: ``1.0 / 0.0`` or ``log(-1.0)``."""
    if name in SYMBOL_METHODS and len(xs) == 2:
        return f"{xs[0]!r} {name} {xs[1]!r}"
    return f"{name}({', '.join(repr(x) for x in xs)})"
