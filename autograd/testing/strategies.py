"""Hypothesis strategies for property-testing gradients (this module needs hypothesis).

``expressions()`` draws ``(f, inputs)``: ``f`` a random expression over the op set, with
shared subexpressions, and ``inputs`` at which every op is inside its domain, away from its
kinks and from overflow, so ``gradcheck(f, inputs)`` must pass. ``repr(f)`` is the formula, so
a failure shrinks to a short expression that reads like one. Pass your own primitives in
``ops`` to test them in context::

    from hypothesis import given
    from autograd import gradcheck
    from autograd.testing import strategies

    @given(strategies.expressions(ops=["+", "*", "tanh", my_primitive]))
    def test_my_primitive_composes(expr):
        f, inputs = expr
        assert gradcheck(f, inputs)

How the guarantee is kept, by construction rather than by filtering: the inputs are drawn
first, and while the expression is built each node's value and gradient (with respect to the
inputs) are computed. An operand outside an op's safe region is replaced by a guard that is
written into the formula: ``log(1 - u)`` when ``u < 0.25``; ``a / (b + 1)`` when
``|b| < 0.5``; ``relu(u + 0.5)`` when ``|u| < 0.1``. A result larger than 10, or whose
gradient is larger than 100 (1-norm), is scaled down by a power of ten (``(u * 0.01)``). So
every operand is within 11 of zero, a finite difference step (1e-6) moves it by at most
1e-4, and every margin above is a thousand times that.
"""

from __future__ import annotations

import inspect
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError:  # say which extra brings it, as digits and TensorBoard do
    raise ImportError(
        "autograd.testing.strategies needs hypothesis: pip install tracegrad[testing]"
    ) from None

from autograd import Value, enable_grad, is_grad_enabled
from autograd.ops import ELEMENTWISE_OPS as SCALAR_OPS
from autograd.ops import Op

# BUILTIN_OPS (read through the module's __getattr__) is builtin_ops() as of the look-up.
__all__ = ["Expression", "expressions", "values", "BUILTIN_OPS", "builtin_ops"]  # noqa: F822

# Number exponents drawn for ``**`` (besides a node exponent); 2 first, the simplest.
_EXPONENTS = (2, 3, -1, 0.5)

VALUE_BOUND = 10.0  # |value| of every node an op may take (guards add at most 1)
GRAD_BOUND = 100.0  # 1-norm of every such node's gradient with respect to the inputs
POSITIVE_MARGIN = 0.25  # log, sqrt, x ** 0.5 and the base of x ** node take u >= this
DIVISOR_MARGIN = 0.5  # a / b and x ** -1 take |b| >= this
KINK_MARGIN = 0.1  # relu and abs take |u| >= this
SHRINK_TARGET = 1.0  # where values() shrink to


def builtin_ops() -> tuple[str, ...]:
    """The scalar op table's ops, binary first: hypothesis shrinks a choice towards the front
    of this tuple. Read from the table each time, so an op added to it is drawn too.

    >>> builtin_ops()[:5]
    ('+', '-', '*', '/', '**')
    """
    rows = list(SCALAR_OPS)
    return tuple(r.name for r in rows if r.arity == 2) + tuple(r.name for r in rows if r.arity == 1)


def __getattr__(name: str) -> Any:
    if name == "BUILTIN_OPS":  # the table's ops as they are now (see builtin_ops)
        return builtin_ops()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _function(row: Op) -> Callable[..., Any]:
    """How an expression applies a row: the operator of a symbol (``operator.mul``), or the
    method of its name, duck-typed so that an expression also runs on anything with these
    methods (torch tensors)."""
    method = row.methods[0]
    if method.startswith("__"):
        return getattr(operator, method.strip("_"))
    return operator.methodcaller(method)


def _builtin_functions() -> dict[str, Callable[..., Any]]:
    return {row.name: _function(row) for row in SCALAR_OPS if row.arity in (1, 2)}


class _Const:
    """A number in the formula (a guard's shift or scale, a number exponent)."""

    __slots__ = ("value", "text")

    def __init__(self, value: float) -> None:
        self.value = value
        self.text = repr(value)


class Expression:
    """A drawn expression: call it with one Value per input; ``repr`` is its formula.

    It uses only arithmetic and the methods ``exp() log() ...`` on its inputs, so it also
    runs on other objects with those methods (a PyTorch tensor, say), custom ops aside.
    ``ops`` is the set of op names that occur in the formula; ``n_inputs`` the input count.
    """

    __slots__ = ("n_inputs", "ops", "_steps", "_functions", "_text")

    def __init__(self, n_inputs: int, steps: tuple, functions: dict[str, Callable]) -> None:
        self.n_inputs = n_inputs
        self._steps = steps  # (name, args): args are node indices (int) or _Const
        self._functions = functions
        self.ops = frozenset(name for name, _ in steps)
        self._text = _formula(n_inputs, steps)

    def __call__(self, *xs: Any) -> Any:
        if len(xs) != self.n_inputs:
            raise TypeError(f"{self!r} takes {self.n_inputs} input(s), got {len(xs)}")
        nodes = list(xs)
        for name, args in self._steps:
            operands = [nodes[a] if isinstance(a, int) else a.value for a in args]
            nodes.append(self._functions[name](*operands))
        return nodes[-1]

    def __repr__(self) -> str:
        return self._text


def _formula(n_inputs: int, steps: tuple) -> str:
    """The formula of the last node. Binary ops are parenthesised inside other binary ops and
    unary minus, never inside a function call: ``tanh((x0 * x1) + exp(x0))``."""
    texts: list[tuple[str, bool]] = [(f"x{i}", True) for i in range(n_inputs)]  # (text, atom)

    def operand(a: int | _Const) -> str:
        if isinstance(a, _Const):
            return a.text
        text, atom = texts[a]
        return text if atom else f"({text})"

    for name, args in steps:
        if name in SCALAR_OPS and SCALAR_OPS[name].symbol:
            texts.append((f"{operand(args[0])} {name} {operand(args[1])}", False))
        elif name == "neg":
            texts.append((f"-{operand(args[0])}", False))
        else:
            inner = ", ".join(a.text if isinstance(a, _Const) else texts[a][0] for a in args)
            texts.append((f"{name}({inner})", True))
    return texts[-1][0]


class _Builder:
    """Builds an expression step by step, tracking every node's value and gradient (with
    respect to the inputs, by forward-mode from the engine's local gradients)."""

    def __init__(self, inputs: list[float], functions: dict[str, Callable]) -> None:
        n = len(inputs)
        self.functions = functions
        self.nodes = [Value(x) for x in inputs]
        self.grads = [[1.0 if j == i else 0.0 for j in range(n)] for i in range(n)]
        self.steps: list[tuple[str, tuple]] = []

    def value(self, i: int) -> float:
        return self.nodes[i].data

    def emit(self, name: str, *args: int | _Const) -> int:
        operands = [self.nodes[a] if isinstance(a, int) else a.value for a in args]
        try:
            out = self.functions[name](*operands)
        except (ArithmeticError, ValueError) as error:
            if name in SCALAR_OPS:
                raise  # a guard is missing: a bug here, not in the caller's op
            raise ValueError(_custom_op_advice(name, operands, error)) from None
        if not isinstance(out, Value) or not math.isfinite(out.data):
            raise ValueError(_custom_op_advice(name, operands, f"it returned {out!r}"))
        grad = [0.0] * len(self.grads[0])
        for a, local in zip(args, out.local_grads):
            if isinstance(a, int):
                for j, g in enumerate(self.grads[a]):
                    grad[j] += float(local) * g
        self.nodes.append(out)
        self.grads.append(grad)
        self.steps.append((name, args))
        return len(self.nodes) - 1

    # --- guards: each returns an operand inside the op's safe region ---------------------

    def positive(self, i: int) -> int:
        return i if self.value(i) >= POSITIVE_MARGIN else self.emit("-", _Const(1), i)

    def nonzero(self, i: int) -> int:
        return i if abs(self.value(i)) >= DIVISOR_MARGIN else self.emit("+", i, _Const(1))

    def off_kink(self, i: int) -> int:
        return i if abs(self.value(i)) >= KINK_MARGIN else self.emit("+", i, _Const(0.5))

    def bounded(self, i: int) -> int:
        """Scale a result down by a power of ten until its value and gradient are small."""
        size = abs(self.value(i))
        norm = sum(abs(g) for g in self.grads[i])
        if not math.isfinite(norm):  # a custom op's derivative: gradcheck will report it
            norm = 0.0
        k = 0
        while size * 10.0**-k > VALUE_BOUND or norm * 10.0**-k > GRAD_BOUND:
            k += 1
        return i if k == 0 else self.emit("*", i, _Const(float(f"1e-{k}")))

    def apply(self, name: str, args: list[int], exponent: float | None) -> int:
        """The op on its operands, with whichever guards their values call for: a row's
        ``guards`` (one per operand), and for ``**`` those its exponent needs."""
        if name == "**":
            base = args[0]
            if exponent is None:  # a node exponent needs a positive base
                return self.emit("**", self.positive(base), args[1])
            if exponent == 0.5:
                base = self.positive(base)
            elif exponent < 0:
                base = self.nonzero(base)
            return self.emit("**", base, _Const(exponent))
        if name in SCALAR_OPS:
            guards = {None: int, "positive": self.positive, "nonzero": self.nonzero,
                      "off_kink": self.off_kink}  # fmt: skip
            args = [guards[g](a) for g, a in zip(SCALAR_OPS[name].guards, args)]
        return self.emit(name, *args)

    def expression(self, output: int) -> Expression:
        """The expression of ``output`` with only the steps it depends on, renumbered."""
        n = len(self.grads[0])
        live = {output}
        for k in range(len(self.steps) - 1, -1, -1):
            if k + n in live:
                live.update(a for a in self.steps[k][1] if isinstance(a, int))
        index = {i: i for i in range(n)}
        steps = []
        for k, (name, args) in enumerate(self.steps):
            if k + n in live:
                index[k + n] = n + len(steps)
                steps.append((name, tuple(index[a] if isinstance(a, int) else a for a in args)))
        return Expression(n, tuple(steps), self.functions)


def _custom_op_advice(name: str, operands: list, error: object) -> str:
    shown = ", ".join(repr(getattr(x, "data", x)) for x in operands)
    return (
        f"expressions: custom op {name!r} failed at ({shown}): {error}. Custom ops must "
        f"be defined, finite and smooth for inputs in [-{VALUE_BOUND + 1}, {VALUE_BOUND + 1}]"
    )


class _Spec:
    __slots__ = ("name", "arity")

    def __init__(self, name: str, arity: int) -> None:
        self.name = name
        self.arity = arity


def _arity(fn: Callable) -> int:
    # A primitive takes *args; its forward has the real signature.
    target = getattr(getattr(fn, "op", None), "forward", fn)
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):  # some builtins (math.log) have none: take one input
        return 1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is p.empty]
    if not required:
        raise ValueError(
            f"expressions: cannot tell how many inputs the custom op {fn!r} takes: give it "
            f"a signature with its positional parameters (def op(x, y): ...)"
        )
    return len(required)


def _specs(ops: Iterable[str | Callable] | None) -> tuple[list[_Spec], dict[str, Callable]]:
    functions = _builtin_functions()
    builtin = builtin_ops()
    if ops is None:
        names: list[str | Callable] = list(builtin)
    elif isinstance(ops, str) or callable(ops):
        names = [ops]
    else:
        names = list(ops)
    specs: list[_Spec] = []
    for op in names:
        if isinstance(op, str):
            if op not in builtin:
                raise ValueError(
                    f"expressions: unknown op {op!r}; the built-in ops are "
                    f"{', '.join(builtin)}, and a custom op is passed as a callable "
                    f"(one made with autograd.primitive, say)"
                )
            spec = _Spec(op, SCALAR_OPS[op].arity)
        elif callable(op):
            name = getattr(getattr(op, "op", None), "name", None) or getattr(op, "__name__", "")
            if any(s.name == name for s in specs):
                raise ValueError(f"expressions: op {name!r} is given twice")
            if not name.isidentifier() or name in functions or re.fullmatch(r"x\d+", name):
                raise ValueError(
                    f"expressions: a custom op needs a name of its own that reads as a "
                    f"function in a formula (an identifier, not a built-in op's name nor "
                    f"x0, x1, ...), got {name!r}"
                )
            functions[name] = op
            spec = _Spec(name, _arity(op))
        else:
            raise TypeError(
                f"expressions: ops must be op names or callables, got {type(op).__name__}"
            )
        if any(s.name == spec.name for s in specs):
            raise ValueError(f"expressions: op {spec.name!r} is given twice")
        specs.append(spec)
    if not specs:
        raise ValueError("expressions: ops is empty")
    return specs, functions


def values(
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
) -> st.SearchStrategy[float]:
    """Finite floats in ``[min_value, max_value]`` (no subnormals), at least ``margin`` away
    from every point in ``avoid`` (a kink, a pole). Built from the allowed intervals, not by
    filtering. They shrink towards 1.0 (or the allowed value nearest to it), not 0.0: at 0
    many derivatives vanish (x**2, tanh'' ...) and a wrong one can hide there, so a shrunk
    failure would keep a longer formula to make its error visible. ``expressions()`` draws
    its inputs from ``values()``.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, deadline=None)
    ... @given(values(avoid=[0.0]))
    ... def test_abs_slope(x):
    ...     assert abs(x) >= 0.1
    >>> test_abs_slope()
    """
    if not (math.isfinite(min_value) and math.isfinite(max_value) and min_value <= max_value):
        raise ValueError(
            f"values: need finite min_value <= max_value, got {min_value!r}, {max_value!r}"
        )
    if not margin >= 0:
        raise ValueError(f"values: margin must be >= 0, got {margin!r}")
    intervals = [(float(min_value), float(max_value))]
    for point in sorted(avoid):
        low, high = point - margin, point + margin
        intervals = [
            piece
            for a, b in intervals
            for piece in ((a, min(b, low)), (max(a, high), b))
            if piece[0] <= piece[1]
        ]
    if not intervals:
        raise ValueError(f"values: nothing in [{min_value}, {max_value}] is {margin} from {avoid}")
    # The interval nearest to 1.0 first: one_of shrinks towards its first strategy.
    intervals.sort(key=lambda ab: abs(min(max(SHRINK_TARGET, ab[0]), ab[1]) - SHRINK_TARGET))
    return st.one_of(*(_floats_around(a, b) for a, b in intervals))


def _floats_around(a: float, b: float) -> st.SearchStrategy[float]:
    """Floats in [a, b] that shrink towards the point of [a, b] nearest to SHRINK_TARGET."""
    t = min(max(SHRINK_TARGET, a), b)
    offsets = st.floats(a - t, b - t, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return offsets.map(lambda d: min(max(t + d, a), b))  # clamped: t + d may round past


def expressions(
    max_leaves: int = 4,
    max_ops: int = 12,
    ops: Iterable[str | Callable] | None = None,
) -> st.SearchStrategy[tuple[Expression, list[float]]]:
    """A strategy of ``(f, inputs)``: ``f`` a random expression DAG of 1 to ``max_leaves``
    inputs and up to ``max_ops`` drawn ops (guards come on top), ``inputs`` its input values,
    at which ``gradcheck(f, inputs)`` must pass.

    ``ops`` chooses the op set: names of built-in ops (``"+" "-" "*" "/" "**" "neg" "exp"
    "log" "tanh" "sigmoid" "relu" "sqrt" "sin" "cos" "abs"``, all of them by default) and
    custom ops: callables such as ``autograd.primitive`` returns, named by their op name,
    their input count read from their forward's signature. A custom op gets operands within
    11 of zero and must be defined, finite and smooth there. Each op takes its operands among
    the inputs and the earlier ops' results, so subexpressions are shared.

    >>> from hypothesis import given, settings
    >>> from autograd import gradcheck
    >>> @settings(max_examples=20, deadline=None)
    ... @given(expressions(max_ops=4))
    ... def test_gradients(expr):
    ...     f, inputs = expr
    ...     assert gradcheck(f, inputs)
    >>> test_gradients()
    """
    if not isinstance(max_leaves, int) or max_leaves < 1:
        raise ValueError(f"expressions: max_leaves must be an int >= 1, got {max_leaves!r}")
    if not isinstance(max_ops, int) or max_ops < 0:
        raise ValueError(f"expressions: max_ops must be an int >= 0, got {max_ops!r}")
    specs, functions = _specs(ops)
    leaf = values()
    index = st.integers(0, max_leaves + max_ops - 1)  # taken modulo the nodes there are
    # One op application: the op; whether its first operand is the newest node (mostly, so
    # that most ops end up in the formula) or counts back from it; its other operands,
    # indexed from x0; and for ``**`` a number exponent or None (a node exponent). A list
    # of these shrinks by deleting whole applications, and each choice shrinks towards a
    # short formula: the newest node, x0, the first op, the exponent 2.
    step = st.tuples(
        st.sampled_from(specs),
        st.integers(0, 3),
        index,
        st.tuples(*[index] * (max(spec.arity for spec in specs) - 1)),
        st.sampled_from((*_EXPONENTS, None)),
    )

    @st.composite
    def draw_expression(draw: st.DrawFn) -> tuple[Expression, list[float]]:
        inputs = draw(st.lists(leaf, min_size=1, max_size=max_leaves))
        # The last op is drawn on its own, so that the shrinker may delete any of the others
        # (it deletes list elements more readily than it empties a list with a minimum size).
        steps = draw(st.lists(step, max_size=max_ops - 1)) + [draw(step)] if max_ops else []
        # Ops must record (for local gradients) even if the caller is inside no_grad.
        with nullcontext() if is_grad_enabled() else enable_grad():
            builder = _Builder(inputs, functions)
            pool = list(range(len(inputs)))  # what ops may take: inputs and ops' results
            for spec, newest, back, others, exponent in steps:
                args = [pool[-1 if newest else -1 - back % len(pool)]]
                if spec.name != "**" or exponent is None:
                    args += [pool[i % len(pool)] for i in others[: spec.arity - 1]]
                pool.append(builder.bounded(builder.apply(spec.name, args, exponent)))
        return builder.expression(pool[-1]), inputs

    return draw_expression()
