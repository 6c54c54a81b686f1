"""The op tables: every primitive's forward and local derivatives, side by side.

This module holds the row type, ``Op``, shared by both node kinds, and the scalar table
(``SCALAR_OPS``, math on Python floats, for ``Value``); ``tensor_ops.py`` holds the array
table (numpy, for ``Tensor``). The graph machinery (``engine.py``) knows no op: it calls a
row's forward, stores its local derivatives on the node, and the reverse pass multiplies
upstream gradients by them.

A scalar row is written as code, the way a textbook writes the rule::

    Op("*", "a * b", ("b", "a"))                 # forward, then d out/d a and d out/d b
    Op("tanh", "tanh(x)", ("1.0 - out * out",))  # unary ops name their operand x

Binary rows name their operands ``a`` and ``b``, unary rows ``x``, and every derivative may
use the result ``out``. The text is compiled three ways from the same row: inlined into the
generated ``Value`` methods (the fast path: no call per op), into plain functions on floats
(``op.forward``, ``op.derivatives``: the general path, gradcheck and traces' float replays)
and into functions on nodes (``op.node_derivative``: ``backward(create_graph=True)``, whose
local gradients are recorded ops that can be differentiated again). So a derivative is
written with arithmetic, comparisons (a Value compares by data) and the functions of
``FLOAT_FUNCTIONS`` / ``NODE_FUNCTIONS``, never a ``math`` call directly.

How to add an elementwise op (say ``softsign``)::

    # here, in SCALAR_OPS:
    Op("softsign", "x / (1.0 + abs(x))", ("1.0 / ((1.0 + abs(x)) * (1.0 + abs(x)))",)),
    # in tensor_ops.py, in TENSOR_OPS:
    Op("softsign", lambda x: x / (1.0 + np.abs(x)),
       (lambda x, out: 1.0 / np.square(1.0 + np.abs(_raw(x))),)),

and nothing else: ``Value.softsign`` and ``Tensor.softsign`` are generated from the rows, the
command line's expressions accept ``softsign(x)`` and ``autograd.testing.strategies`` draws it
(``guards`` tells it where an operand must stay: ``"positive"``, ``"nonzero"`` or
``"off_kink"``; ``kink`` tells gradcheck where the derivative is a convention). A row can also
be added at run time with ``SCALAR_OPS.add(row)`` / ``TENSOR_OPS.add(row)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

INF = math.inf

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
GUARDS = ("positive", "nonzero", "off_kink")  # where strategies keep an operand (see module doc)

Derivative = Callable[..., Any]


class Op:
    """One row of an op table, for either node kind.

    ``forward`` gives the result's data from the operands' data (and the op's parameters,
    such as a reduction's axis); ``derivatives`` holds one local derivative per operand,
    each a function of the operands, the result ``out`` (and the parameters), and
    ``derivative`` is all of them at once (a tuple; ``node_derivative`` the same on nodes,
    for create_graph). A scalar row gives both as code (see the module docstring); an array
    row as callables. ``kink``
    (``(*xs, *params, within=0.0) -> bool``) says whether an operand sits within ``within``
    of a point where the derivative is a convention (relu and abs at 0); ``guards`` (one per
    operand, a name of ``GUARDS`` or None) where random expressions must keep an operand;
    ``broadcasts`` marks an elementwise binary array op whose operands numpy may broadcast;
    ``check`` (``(*operands) -> None``) may refuse operands before the forward runs;
    ``params`` names the parameters the forward takes after the operands. A ``primitive``
    gives one joint ``derivative`` instead of ``derivatives`` and takes any number of
    operands (``arity`` None).
    """

    __slots__ = (
        "name",
        "arity",
        "forward",
        "derivatives",
        "derivative",
        "node_derivative",
        "forward_code",
        "derivative_code",
        "kink",
        "guards",
        "broadcasts",
        "check",
        "params",
        "user_defined",
        "table",
    )

    def __init__(
        self,
        name: str,
        forward: str | Callable[..., Any] | None,
        derivatives: tuple = (),
        *,
        kink: Callable[..., bool] | None = None,
        guards: tuple = (),
        broadcasts: bool = False,
        check: Callable[..., None] | None = None,
        params: tuple[str, ...] = (),
        derivative: Callable[..., tuple] | None = None,
        user_defined: bool = False,
    ) -> None:
        self.name = name
        # One or two operands, or (a primitive's joint ``derivative``) any number: None.
        self.arity = None if derivative is not None else len(derivatives)
        self.kink = kink
        self.guards = guards or (None,) * (self.arity or 0)
        self.params = params
        self.broadcasts = broadcasts
        self.check = check
        self.user_defined = user_defined
        self.table: OpTable | None = None
        self.forward_code = forward if isinstance(forward, str) else None
        self.derivative_code = tuple(derivatives) if self.forward_code else None
        if self.forward_code is not None:
            params = "x" if self.arity == 1 else "a, b"
            joint = f"lambda {params}, out: ({', '.join(derivatives)},)"
            self.forward = _compile(f"lambda {params}: {forward}", FLOAT_FUNCTIONS)
            self.derivatives = tuple(
                _compile(f"lambda {params}, out: {code}", FLOAT_FUNCTIONS) for code in derivatives
            )
            self.derivative = _compile(joint, FLOAT_FUNCTIONS)
            self.node_derivative = _compile(joint, NODE_FUNCTIONS)
        elif derivative is not None:
            self.forward = forward
            self.derivatives = ()
            self.derivative = self.node_derivative = derivative
        else:
            self.forward = forward
            self.derivatives = tuple(derivatives)
            self.derivative = self.node_derivative = _joint(self.derivatives)

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


def _joint(derivatives: tuple) -> Callable[..., tuple]:
    """All of a row's local derivatives at once, from one function per operand."""

    def all_locals(*args: Any) -> tuple:
        return tuple(d(*args) for d in derivatives)

    return all_locals


def _compile(source: str, namespace: dict) -> Callable[..., Any]:
    # Only the rows' own text (written in this package) is compiled; nothing a user typed.
    return eval(compile(source, f"<op {source}>", "eval"), namespace)  # noqa: S307


class OpTable:
    """The rows of one node kind, by name; node classes generate their methods from it.

    ``add(row)`` at run time installs the row's methods on the node class at once (and
    ``remove(name)`` takes them away again): adding an op is adding a row.
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

    def generate(self, install: Callable[[Op], None], remove: Callable[[Op], None]) -> None:
        """Register a node class's method generator: run now on every row, later on new
        rows."""
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
        """The elementwise one-operand ops called like functions: ``exp``, ``tanh``, ...
        (what the command line's expressions may call)."""
        return tuple(
            r.name
            for r in self
            if r.arity == 1 and not r.params and not r.methods[0].startswith("__")
        )


# Leaves have no op. Constants (numbers an op wrapped) are leaves too, with their own marker.
LEAF = Op("", None)
CONSTANT = Op("", None)


# --- the functions rows may call --------------------------------------------------------
# On floats: math, each domain error a ValueError (ZeroDivisionError, OverflowError) with a
# short reason; the machinery adds the op's name and the offending values to the message.


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _pow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise ZeroDivisionError("0 cannot be raised to a negative power")
    if a < 0 and a > -INF and math.isfinite(b) and not float(b).is_integer():
        raise ValueError("a negative base needs an integer exponent")
    try:
        return a**b
    except OverflowError:
        raise OverflowError("result overflows a float") from None


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError("result overflows a float (exp(x) for x > 709.78)") from None


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError("input must be > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("input must be >= 0")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # nan stays nan


def _periodic(f: Callable[[float], float]) -> Callable[[float], float]:
    """sin or cos, nan at ±inf as IEEE says (math.sin raises there): inf data propagates."""

    def forward(x: float) -> float:
        return f(x) if -INF < x < INF else math.nan

    return forward


def _is_node(x: Any) -> bool:
    return hasattr(x, "_op")


def _method(name: str, on_floats: Callable[[float], float]) -> Callable[[Any], Any]:
    """A function of rows' derivatives under create_graph: a node's recorded method, or the
    float function for a constant operand (passed as a number)."""

    def call(x: Any) -> Any:
        return getattr(x, name)() if _is_node(x) else on_floats(x)

    call.__name__ = name
    return call


def _pow_base(a: Any, b: Any, out: Any) -> Any:
    # d/da = b * a**(b-1). At a = 0 that is 0 for b >= 1 (and b = 1 gives 1), 0 for b = 0
    # (PyTorch masks it) and infinite for 0 < b < 1. ``a > 0 or a < 0`` is ``a != 0``
    # spelled so that it also works when a is a Value (whose == is identity).
    if a > 0 or a < 0 or b >= 1:
        try:
            return b * a ** (b - 1)
        except OverflowError:  # 1e-10 ** -30 is finite, its derivative is not: inf, as torch
            return b * out / a  # (a != 0 here: 0 ** (b - 1) with b >= 1 cannot overflow)
    return 0.0 if b <= 0 else INF


def _pow_exponent(a: Any, b: Any, out: Any, log: Callable[[Any], Any]) -> Any:
    # d/db = log(a) * a**b, defined for a > 0 only. A Value exponent requires a > 0 (the
    # row's check), so the 0 here only ever lands on a constant exponent, whose local the
    # reverse pass never uses. (``not a <= 0`` so that a nan base gives a nan gradient.)
    return log(a) * out if not a <= 0 else 0.0


def _positive_base_for_node_exponent(a: Any, b: Any) -> None:
    if _is_node(b) and not (a.data if _is_node(a) else a) > 0:
        base = a.data if _is_node(a) else a
        if base != base:  # nan propagates, as all nan data does
            return
        raise ValueError(
            f"**: a Value exponent needs a base > 0 (d/db = log(a) * a**b), got base {base!r}"
        )


FLOAT_FUNCTIONS: dict[str, Any] = {
    "inf": INF,
    "div": _div,
    "pow": _pow,
    "exp": _exp,
    "log": _log,
    "sqrt": _sqrt,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "sin": _periodic(math.sin),
    "cos": _periodic(math.cos),
    "pow_base": _pow_base,
    "pow_exponent": lambda a, b, out: _pow_exponent(a, b, out, math.log),
}

NODE_FUNCTIONS: dict[str, Any] = {
    **FLOAT_FUNCTIONS,
    **{name: _method(name, FLOAT_FUNCTIONS[name]) for name in ("exp", "tanh", "sigmoid")},
    "log": _method("log", math.log),
    "sqrt": _method("sqrt", math.sqrt),
    "sin": _method("sin", FLOAT_FUNCTIONS["sin"]),
    "cos": _method("cos", FLOAT_FUNCTIONS["cos"]),
    "pow_exponent": lambda a, b, out: _pow_exponent(a, b, out, _method("log", math.log)),
}


def _at_zero(x: Any, *rest: Any, within: float = 0.0) -> bool:
    return abs(x) <= within


# --- the scalar table ------------------------------------------------------------------
# fmt: off
SCALAR_OPS = OpTable("Value", [
    #   name       forward          d out / d a (or d x)                 d out / d b
    Op("+",       "a + b",         ("1.0",                              "1.0")),
    Op("-",       "a - b",         ("1.0",                              "-1.0")),
    Op("*",       "a * b",         ("b",                                "a")),
    Op("/",       "div(a, b)",     ("1.0 / b",                          "-out / b"),
       guards=(None, "nonzero")),
    Op("**",      "pow(a, b)",     ("pow_base(a, b, out)",              "pow_exponent(a, b, out)"),
       check=_positive_base_for_node_exponent),
    Op("neg",     "-x",            ("-1.0",)),
    Op("exp",     "exp(x)",        ("out",)),
    Op("log",     "log(x)",        ("1.0 / x",),                        guards=("positive",)),
    Op("tanh",    "tanh(x)",       ("1.0 - out * out",)),
    Op("sigmoid", "sigmoid(x)",    ("out * (1.0 - out)",)),
    Op("relu",    "relu(x)",       ("1.0 if x > 0 else 0.0",),          kink=_at_zero,
       guards=("off_kink",)),
    Op("sqrt",    "sqrt(x)",       ("0.5 / out if out > 0 else inf",),  guards=("positive",)),
    Op("sin",     "sin(x)",        ("cos(x)",)),
    Op("cos",     "cos(x)",        ("-sin(x)",)),
    Op("abs",     "abs(x)",        ("1.0 if x > 0 else (-1.0 if x < 0 else 0.0)",),
       kink=_at_zero, guards=("off_kink",)),
])
# fmt: on


def describe_call(name: str, xs: tuple) -> str:
    """How an op application reads in an error message: ``1.0 / 0.0`` or ``log(-1.0)``."""
    if name in SYMBOL_METHODS and len(xs) == 2:
        return f"{xs[0]!r} {name} {xs[1]!r}"
    return f"{name}({', '.join(repr(x) for x in xs)})"
