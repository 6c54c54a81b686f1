"""``trace``: the recorded graph as a program, its listing, and replays that build no node.

``trace(f, *args)`` runs ``f`` once on Values (Tensors for float arrays), keeps the graph of
its result and turns it into straight-line Python: the forward ops in an order where every
operand comes first, then the reverse pass written out as one statement per edge of the
graph, in the order the engine's own pass visits them (``g_x += g_y * local``). That source
is what runs: it is compiled once and replayed on new inputs, so a training step whose graph
never changes shape costs what its arithmetic costs, with no node built.

The code generator is written once for three back ends, which differ only in the text of an
op and of its local derivatives:

- floats (a program traced on numbers, replayed on numbers): the scalar rows' own code
  (``ops.SCALAR_OPS``), so a replay gives the engine's numbers to the last bit: the same ops,
  the local derivatives computed by the same expressions, accumulated in the same order;
- batches (the same program replayed on 1-d arrays of n samples): the array rows'
  functions (``tensor_ops.TENSOR_OPS``), broadcasting numbers against the samples;
- Tensors (a program traced on arrays): the array rows too, their local derivatives (arrays
  or linear maps) made at replay time.

What the generated code may contain: names the generator makes (``v3``, ``g_v3``), the
identifiers of the user's labels and of ``f``'s parameters (only plain ASCII identifiers,
never a keyword or a name the code needs) and ``repr()`` of numbers. Nothing else a user typed
reaches it (a primitive's name, a label with a quote or a newline, a big array: each is bound
in the code's namespace under a generated name).

Control flow is recorded as it happened: each comparison of Values during the trace becomes a
guard, and a replay whose comparison comes out the other way raises ``TraceError``. Python
code that reads ``.data`` and branches on it cannot be seen (as in JAX): the branch taken
while tracing is the only one the program knows.

>>> prog = trace(lambda x, y: (x * y).tanh() + x, 0.5, -1.0)
>>> print(prog)
program(x, y):
    v1 = x * y
    v2 = tanh(v1)
    v3 = v2 + x
    return v3
>>> prog(0.5, -1.0) == (Value(0.5) * Value(-1.0)).tanh().data + 0.5
True
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import keyword
import math
import numbers
import threading
import tokenize
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tensor_ops as T
from .engine import Node, _order, op_error
from .modes import _modes, _trace_local, enable_grad, tracing
from .ops import CONSTANT, FLOAT_FUNCTIONS, SCALAR_OPS, Op
from .tensor import Tensor
from .tensor_ops import IDENTITY, PASS, TENSOR_OPS
from .value import Value

_trace_lock = threading.Lock()


class TraceError(ValueError):
    """A replay took a branch the trace did not record: a comparison of Values came out the
    other way. Trace again with inputs that take this branch."""


class _Tracer:
    """What a running trace collects besides the graph: guards and no_grad ops."""

    def __init__(self) -> None:
        self.guards: list[tuple] = []
        self.detached: dict[Node, tuple] = {}

    def __enter__(self) -> _Tracer:
        self.outer = getattr(_trace_local, "tracer", None)
        _trace_local.tracer = self
        with _trace_lock:
            tracing[0] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        _trace_local.tracer = self.outer
        with _trace_lock:
            tracing[0] -= 1


# --- the program ------------------------------------------------------------------------


class _Var:
    """A value of the program: an input, a captured leaf, an op's result or a constant."""

    __slots__ = ("name", "role", "node", "shape", "value", "index", "param")

    def __init__(self, role: str, node: Any = None, value: Any = None) -> None:
        self.role = role  # "input", "raw" (an input passed through), "captured", "step", "const"
        self.node = node
        self.value = value  # a constant's number or array
        self.name = ""
        self.shape: tuple | None = None
        self.index = -1  # position among the inputs or the captured leaves
        self.param = ""  # f's parameter name, for an input


class _Step:
    """One op of the program: ``out = op(operands, params)``; ``detached`` when it ran under
    ``no_grad`` (replayed, no gradient through it)."""

    __slots__ = ("out", "op", "operands", "params", "detached", "node")

    def __init__(self, out: _Var, op: Op, operands: list, params: tuple, detached: bool) -> None:
        self.out = out
        self.op = op
        self.operands = operands
        self.params = params
        self.detached = detached


def _is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, np.ndarray)


def _is_float_array(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "f"
    if isinstance(x, (list, tuple)) and x:
        try:
            return np.asarray(x).dtype.kind == "f"
        except ValueError:
            return False
    return False


def _parameter_names(f: Callable, n: int) -> list[str]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"x{i}" for i in range(n)]


def trace(f: Callable[..., Node], *args: Any, has_aux: bool = False) -> Program:
    """Run ``f`` once on ``args`` and keep the graph of its result as a ``Program``.

    Each number argument reaches ``f`` as a Value and each float array as a Tensor (named
    after ``f``'s parameter); other arguments (an int array of labels, say) are passed as
    they are, and a replay takes new ones. Leaves ``f`` reaches without receiving them (a
    model's parameters) are *captured*: every replay reads their current ``.data``.

    With ``has_aux=True`` (as in JAX), ``f`` returns ``(node, aux)``, ``aux`` a node or a
    (nested) list or tuple of nodes, say a model's predictions; every replay then returns
    ``(value, aux_values)`` in place of the value, ``aux_values`` of the same structure.

    >>> prog = trace(lambda x: x * x + 1.0, 3.0)
    >>> prog(2.0), prog.value_and_grad(2.0)
    (5.0, (5.0, (4.0,)))
    """
    if not callable(f):
        raise TypeError(f"trace: f must be callable, got {type(f).__name__}")
    names = _parameter_names(f, len(args))
    inputs: list[_Var] = []
    call_args = []
    for i, arg in enumerate(args):
        if isinstance(arg, Node):
            raise TypeError(
                f"trace: argument {i} ({names[i]}) is a {type(arg).__name__}; pass numbers "
                f"or arrays (the program's inputs), or let f capture the node"
            )
        if _is_number(arg):
            var = _Var("input", Value(arg, names[i]))
        elif _is_float_array(arg):
            var = _Var("input", Tensor(arg, names[i]))
            var.shape = var.node.data.shape
        else:
            var = _Var("raw", value=arg)
        var.index = i
        var.param = names[i]
        inputs.append(var)
        call_args.append(var.node if var.node is not None else arg)
    with _Tracer() as tracer, enable_grad():
        out = f(*call_args)
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("trace: with has_aux=True, f must return a pair (node, aux)")
        out, aux = out
        _aux_nodes(aux)  # checks its structure
    if not isinstance(out, Node):
        raise TypeError(f"trace: f must return a Value or a Tensor, got {type(out).__name__}")
    return Program(getattr(f, "__name__", "f"), names, inputs, out, tracer, aux, has_aux)


def _aux_nodes(aux: Any) -> list[Node]:
    """The nodes of an aux structure, in order (TypeError for anything but nodes, lists and
    tuples of them)."""
    if isinstance(aux, Node):
        return [aux]
    if isinstance(aux, (list, tuple)):
        return [n for item in aux for n in _aux_nodes(item)]
    raise TypeError(
        f"trace: aux must be a node or a list or tuple of nodes, got {type(aux).__name__}"
    )


class Program:
    """A traced function as straight-line code: call it to replay the forward pass,
    ``value_and_grad`` for the gradients with respect to its inputs, ``backward`` to
    accumulate into its captured leaves' ``.grad`` as ``backward()`` would. ``str(prog)`` is
    the listing, ``prog.source`` the Python that ``value_and_grad`` runs."""

    def __init__(
        self,
        fname: str,
        names: list[str],
        inputs: list[_Var],
        root: Node,
        tracer: _Tracer,
        aux: Any = None,
        has_aux: bool = False,
    ) -> None:
        self._fname = fname
        self._inputs = inputs
        self._root_node = root
        self._kind = type(root)._kind
        self._arrays = self._kind is Tensor
        self._has_aux = has_aux
        self._aux = aux
        self._build(root, tracer, _aux_nodes(aux) if has_aux else [])
        self._compiled: dict[tuple, Callable] = {}

    # --- building -----------------------------------------------------------------------

    def _build(self, root: Node, tracer: _Tracer, extra: list[Node]) -> None:
        by_node: dict[Any, _Var] = {v.node: v for v in self._inputs if v.node is not None}
        raw_inputs = {id(v.value): v for v in self._inputs if v.role == "raw"}
        self._captured: list[_Var] = []
        self._constants: list[_Var] = []
        self._steps: list[_Step] = []
        step_of: dict[Node, _Step] = {}

        self._raw_used: set[int] = set()

        def constant(value: Any) -> _Var:
            if id(value) in raw_inputs:  # an array passed in as it is (labels): an input
                self._raw_used.add(raw_inputs[id(value)].index)
                return raw_inputs[id(value)]
            var = _Var("const", value=value)
            if isinstance(value, np.ndarray):
                var.shape = value.shape
            self._constants.append(var)
            return var

        def operands_of(node: Node) -> tuple[Op, list, tuple, bool] | None:
            """The op, operands (nodes or raw values) and parameters a node was made by;
            None for a leaf."""
            if node in tracer.detached:
                op, parents, params = tracer.detached[node]
                return op, list(parents), params, True
            a = node._a
            if a is None:
                return None
            if a.__class__ is tuple:
                operands = list(a)
            elif node._op.arity == 1:
                operands = [a]
            else:
                operands = [a, node._b]
            return node._op, operands, getattr(node, "_args", ()), False

        # Depth-first, parents first: detached ops (no_grad) are in the program too.
        order: list[Node] = []
        done: set[Node] = set()
        stack: list[tuple[Node, bool]] = [(node, False) for node in reversed(extra)]
        stack.append((root, False))
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in done:
                continue
            done.add(node)
            stack.append((node, True))
            made = operands_of(node) if node not in by_node else None
            if made is not None:
                for p in reversed(made[1]):
                    if isinstance(p, Node) and p not in done:
                        stack.append((p, False))
        for node in order:
            if node in by_node:
                continue
            made = operands_of(node)
            if made is None:
                var = constant(node.data) if node._op is CONSTANT else _Var("captured", node)
                if var.role == "captured":
                    var.index = len(self._captured)
                    var.shape = getattr(node.data, "shape", None) if self._arrays else None
                    self._captured.append(var)
                by_node[node] = var
                continue
            op, operands, params, detached = made
            refs = [by_node[p] if isinstance(p, Node) else constant(p) for p in operands]
            params = _arrays_as(constant, params) if params else params
            out = _Var("step", node)
            out.shape = node.data.shape if self._arrays else None
            step = _Step(out, op, refs, params, detached)
            step.node = node
            self._steps.append(step)
            step_of[node] = step
            by_node[node] = out
        self._root = by_node[root]
        self._var_of = by_node
        self._aux_vars = [by_node[node] for node in extra]
        # The reverse pass's order: the engine's own (reversed), so accumulation matches it.
        self._backward_steps = [
            step_of[n] for n in reversed(_order(root)) if n in step_of and not step_of[n].detached
        ]
        self._guards = [self._guard(g, by_node, constant) for g in tracer.guards]
        self._name_everything()

    def _guard(self, guard: tuple, by_node: dict, constant: Callable) -> tuple:
        symbol, a, b, result = guard

        def ref(x: Any) -> _Var:
            if isinstance(x, Node):
                if x not in by_node:  # a value f compared but did not use: its data then
                    return constant(float(x.data))
                return by_node[x]
            return constant(float(x))

        return symbol, ref(a), ref(b), bool(result)

    def _name_everything(self) -> None:
        """Names for every value: labels and parameter names where they are plain
        identifiers, used once and not needed by the code; generated names elsewhere."""
        reserved = _RESERVED | _function_names()
        candidates: dict[str, int] = {}
        wanted: list[tuple[_Var, str]] = []
        for var in self._inputs:
            wanted.append((var, var.node.label if var.node is not None else var.param))
        for var in self._captured:
            wanted.append((var, var.node.label))
        for step in self._steps:
            wanted.append((step.out, step.node.label))
        for _, label in wanted:
            candidates[label] = candidates.get(label, 0) + 1
        used = set()

        def plain(name: str) -> bool:
            return (
                name.isascii()
                and name.isidentifier()
                and not name.startswith(("_", "g_", "d_"))
                and name not in reserved
                and candidates.get(name, 0) == 1
            )

        for var, label in wanted:
            if plain(label):
                var.name = label
                used.add(label)
        counter = {"v": 0, "p": 0, "x": 0, "c": 0}

        def fresh(prefix: str) -> str:
            while True:
                counter[prefix] += 1
                name = f"{prefix}{counter[prefix]}"
                if name not in used and name not in reserved:
                    used.add(name)
                    return name

        for var in self._inputs:
            if not var.name:
                var.name = fresh("x")
        for var in self._captured:
            if not var.name:
                var.name = fresh("p")
        for step in self._steps:
            if not step.out.name:
                step.out.name = fresh("v")
        for var in self._constants:
            if isinstance(var.value, np.ndarray):
                var.name = fresh("c")
            else:
                var.name = _literal(var.value)

    # --- the listing ----------------------------------------------------------------------

    def __str__(self) -> str:
        header = ", ".join(v.name for v in self._inputs)
        if self._captured:
            header += (
                ("; " if header else "") + "captured " + ", ".join(v.name for v in self._captured)
            )
        lines = [f"program({header}):"]
        for var in self._constants:
            if isinstance(var.value, np.ndarray):
                lines.append(f"    {var.name} = <constant array of shape {var.value.shape}>")
        guards = self._guards_by_position()
        for k, step in enumerate(self._steps):
            lines.append(f"    {step.out.name} = {self._listing_text(step)}")
            for text in guards.get(k, []):
                lines.append(f"    guard {text}")
        for text in guards.get(-1, []):
            lines.insert(1, f"    guard {text}")
        aux = ", ".join(v.name for v in self._aux_vars)
        lines.append(f"    return {self._root.name}" + (f", aux ({aux})" if self._has_aux else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Program {self._fname}: {len(self._steps)} ops, {len(self._inputs)} inputs>"

    def _listing_text(self, step: _Step) -> str:
        names = [v.name for v in step.operands]
        op = step.op
        if op.symbol and len(names) == 2:
            text = f"{names[0]} {op.name} {names[1]}"
        elif op.name == "neg":
            text = f"-{names[0]}"
        else:
            params = [_param_text(p) for p in step.params]
            text = f"{_op_name(op)}({', '.join(names + params)})"
        return text + ("    # under no_grad: no gradient" if step.detached else "")

    def _guards_by_position(self) -> dict[int, list[str]]:
        """Each guard's text, at the step after which its operands are defined."""
        position = {id(step.out): k for k, step in enumerate(self._steps)}
        out: dict[int, list[str]] = {}
        for symbol, a, b, result in self._guards:
            k = max(position.get(id(a), -1), position.get(id(b), -1))
            text = f"{a.name} {symbol} {b.name}" if result else f"not {a.name} {symbol} {b.name}"
            out.setdefault(k, []).append(text)
        return out

    # --- the generated code ---------------------------------------------------------------

    @property
    def source(self) -> str:
        """The Python that ``value_and_grad`` runs: the forward ops, then the reverse pass as
        one statement per edge, in the order the engine's pass visits them."""
        backend = "tensor" if self._arrays else "float"
        return self._source(backend, "value_and_grad", anomaly=False)

    @property
    def javascript(self) -> str:
        """``value_and_grad`` as JavaScript, for programs traced with number arguments: one
        function ``valueAndGrad(args, leaves) -> {value, grads, leafGrads}``, ``leaves`` the
        captured leaves' values in the order of ``captured`` (see autograd/javascript.py)."""
        from .javascript import javascript

        return javascript(self)

    @property
    def backward_source(self) -> str:
        """The Python that ``backward`` runs: only the gradients its captured leaves need."""
        backend = "tensor" if self._arrays else "float"
        return self._source(backend, "backward", anomaly=False)

    def _source(self, backend: str, what: str, anomaly: bool) -> str:
        return _Generator(self, backend, what, anomaly).source()

    def _function(self, backend: str, what: str) -> Callable:
        anomaly = _modes.anomaly
        key = (backend, what, anomaly)
        fn = self._compiled.get(key)
        if fn is None:
            gen = _Generator(self, backend, what, anomaly)
            fn = gen.compile()
            self._compiled[key] = fn
        return fn

    # --- replays --------------------------------------------------------------------------

    def _arguments(self, args: tuple) -> tuple[str, list, int | None]:
        """Check the arguments; the back end they call for and the batch size (or None)."""
        if len(args) != len(self._inputs):
            raise TypeError(
                f"{self._fname}: the program takes {len(self._inputs)} argument(s) "
                f"({', '.join(v.name for v in self._inputs)}), got {len(args)}"
            )
        values, n = [], None
        for var, arg in zip(self._inputs, args):
            if var.role == "raw":
                values.append(self._raw_argument(var, arg))
                continue
            if var.shape is None:  # a number input
                if _is_number(arg):
                    values.append(float(arg))
                    continue
                array = _as_batch(arg, var.name)
                if n is None:
                    n = array.shape[0]
                elif array.shape[0] != n:
                    raise ValueError(
                        f"{var.name}: a batch of {array.shape[0]} samples, but another "
                        f"argument has {n}: every batched argument has one length"
                    )
                values.append(array)
                continue
            try:
                array = np.asarray(arg, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{var.name}: expected a float array of shape {var.shape}, got "
                    f"{type(arg).__name__}"
                ) from None
            if array.shape != var.shape:
                raise ValueError(
                    f"{var.name}: expected an array of the traced shape {var.shape}, got "
                    f"shape {array.shape} (trace again for another shape)"
                )
            values.append(array)
        backend = "tensor" if self._arrays else ("batch" if n is not None else "float")
        return backend, values, n

    def _raw_argument(self, var: _Var, arg: Any) -> Any:
        """An argument passed to f as it was (not a number nor a float array). One that ops
        used as it is (labels as an index) takes new values of its shape; one f transformed
        first was baked into the program, which then only takes that same value."""
        if var.index in self._raw_used:
            if np.shape(arg) != np.shape(var.value):
                raise ValueError(
                    f"{var.name}: expected the traced shape {np.shape(var.value)}, got "
                    f"{np.shape(arg)} (trace again for another shape)"
                )
            return arg
        same = arg is var.value
        if not same:
            try:
                same = bool(np.array_equal(np.asarray(arg), np.asarray(var.value)))
            except (TypeError, ValueError):
                same = False
        if not same:
            raise ValueError(
                f"{var.name}: the program took this argument's traced value (f used it through "
                f"Python, not as an op's operand), so it replays only with that value; trace "
                f"again for a new one"
            )
        return arg

    def __call__(self, *args: Any) -> Any:
        """Replay the forward pass on new inputs: a float (an array for a Tensor result, or
        for a batch); ``(value, aux)`` for a program traced with ``has_aux``."""
        backend, values, n = self._arguments(args)
        return self._results(self._function(backend, "forward")(*values), n)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple]:
        """``(value, grads)``, one gradient per input (per-sample arrays for a batch);
        ``((value, aux), grads)`` for a program traced with ``has_aux``, as in JAX."""
        self._scalar_result("value_and_grad")
        backend, values, n = self._arguments(args)
        value, grads = self._function(backend, "value_and_grad")(*values)
        if backend == "batch":  # per-sample values and gradients, numbers broadcast
            grads = tuple(None if g is None else np.broadcast_to(g, (n,)).copy() for g in grads)
        return self._results(value, n), grads

    def backward(self, *args: Any) -> Any:
        """Replay forward and backward, accumulate into the captured leaves' ``.grad`` as
        ``backward()`` on a freshly built graph would (the sum over the samples of a batch),
        and return the value (``(value, aux)`` for a program traced with ``has_aux``)."""
        self._scalar_result("backward")
        backend, values, n = self._arguments(args)
        return self._results(self._function(backend, "backward")(*values), n)

    def _results(self, out: Any, n: int | None) -> Any:
        """A replay's value (and aux values, in their structure); a batch's per sample."""

        def sample(x: Any) -> Any:
            return x if n is None else np.broadcast_to(x, (n,)).copy()

        if not self._has_aux:
            return sample(out)
        value, flat = out
        values = iter(sample(x) for x in flat)

        def rebuild(aux: Any) -> Any:
            if isinstance(aux, Node):
                return next(values)
            return type(aux)(rebuild(item) for item in aux)

        return sample(value), rebuild(self._aux)

    def _scalar_result(self, what: str) -> None:
        if np.size(self._root_node.data) != 1:
            raise ValueError(
                f"{what}: the program's result has shape {np.shape(self._root_node.data)}; "
                f"gradients need a one-element result"
            )

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs' names, in the order a replay takes them."""
        return tuple(v.name for v in self._inputs)

    @property
    def captured(self) -> tuple[Node, ...]:
        """The captured leaves (a model's parameters), read afresh at every replay."""
        return tuple(v.node for v in self._captured)


def _as_batch(arg: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(arg, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected a number or a 1-d float array (a batch), got {type(arg).__name__}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name}: expected a number or a 1-d float array of samples, got shape {array.shape}"
        )
    return array


def _arrays_as(constant: Callable, params: Any) -> Any:
    """An op's parameters with every array in them (an index, say) a program constant."""
    if isinstance(params, np.ndarray):
        return constant(params)
    if isinstance(params, tuple):
        return tuple(_arrays_as(constant, p) for p in params)
    return params


def _literal(x: float) -> str:
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


def _param_text(p: Any) -> str:
    """A parameter as code: numbers, bools, None and tuples of them as literals; a constant
    array by its generated name."""
    if isinstance(p, _Var):
        return p.name
    if p is None or isinstance(p, bool):
        return repr(p)
    if isinstance(p, (int, np.integer)):
        return repr(int(p))
    if isinstance(p, (float, np.floating)):
        return _literal(float(p))
    if isinstance(p, tuple):
        inner = ", ".join(_param_text(q) for q in p)
        return f"({inner},)" if len(p) == 1 else f"({inner})"
    if isinstance(p, slice):
        return f"slice({_param_text(p.start)}, {_param_text(p.stop)}, {_param_text(p.step)})"
    if p is Ellipsis:
        return "Ellipsis"
    raise TypeError(f"trace: cannot write the parameter {type(p).__name__} as code")


def _op_name(op: Op) -> str:
    """An op's name as a function name in code: a row's name (a symbol by its method's: ``*``
    is ``mul``), a primitive's when it is a plain identifier, else ``primitive``."""
    if op.user_defined:  # a plain identifier may name it; other text never reaches the code
        name = op.name
        plain = name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
        return name if plain and name not in _RESERVED else "primitive"
    if op.symbol:
        return op.methods[0].strip("_")
    name = op.name
    plain = name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    return name if plain else "op"


def _function_names() -> set[str]:
    names = set()
    for row in list(SCALAR_OPS) + list(TENSOR_OPS):
        base = _op_name(row)
        names |= {base, f"{base}_d0", f"{base}_d1"}
    return names


# Names the generated code may need besides the ops' own (its helpers start with "_", which
# no label may): a label is never one of them.
_RESERVED = (
    set(keyword.kwlist)
    | set(dir(builtins))
    | set(FLOAT_FUNCTIONS)
    | {"np", "TraceError", "inf", "nan", "primitive", "forward", "value_and_grad", "backward"}
)


# --- the generator ------------------------------------------------------------------------


class _Generator:
    """Writes one program's code for one back end (float, batch, tensor) and one job
    (forward, value_and_grad, backward)."""

    def __init__(self, prog: Program, backend: str, what: str, anomaly: bool) -> None:
        self.prog = prog
        self.backend = backend
        self.what = what
        self.anomaly = anomaly
        self.namespace: dict[str, Any] = {"np": np, "TraceError": TraceError}
        if backend == "float":  # the rows' functions, as their code names them
            self.namespace.update(FLOAT_FUNCTIONS)
        self.lines: list[str] = []
        self._bound: dict[int, str] = {}
        self._kept: list[Any] = []
        self._worded: dict[str, Callable] = {}
        self.leaves = [v.node for v in prog._captured]

    # names bound in the namespace (never user text)
    def bind(self, obj: Any, hint: str) -> str:
        key = id(obj)
        if key in self._bound:
            return self._bound[key]
        name, k = hint, 1
        while name in self.namespace:
            k += 1
            name = f"{hint}_{k}"
        self.namespace[name] = obj
        self._bound[key] = name
        self._kept.append(obj)  # ids stay unique while the generator lives
        return name

    def source(self) -> str:
        if not self.lines:
            self._write()
        return "\n".join(self.lines) + "\n"

    def compile(self) -> Callable:
        src = self.source()
        code = compile(src, f"<program {self.prog._fname}: {self.what}>", "exec")
        exec(code, self.namespace)  # noqa: S102 - our own generated code (see the module doc)
        return self.namespace[self.what]

    # --- op text ------------------------------------------------------------------------

    def forward_text(self, step: _Step) -> str:
        op = step.op
        names = [v.name for v in step.operands]
        if self.backend == "float" and op.forward_code is not None:
            function = _called(op.forward_code)
            if function is not None and function not in self._worded:
                # A function op (log, tanh...): called through its row, worded as the engine
                # words its domain errors; an infix op (a * b) cannot fail.
                self.namespace[function] = self._worded[function] = _worded(op)
            return _substitute(op.forward_code, _operand_map(op, names))
        if op.symbol and len(names) == 2 and self.backend != "float":
            return f"{names[0]} {op.name} {names[1]}"
        if op.name == "neg" and self.backend != "float":
            return f"-{names[0]}"
        fn = self.forward_function(op)
        params = [_param_text(p) for p in step.params]
        return f"{fn}({', '.join(names + params)})"

    def forward_function(self, op: Op) -> str:
        """The name bound to an op's forward: on floats worded as the engine words a domain
        error; on arrays the array row's."""
        if self.backend == "float":
            return self.bind(_worded(op), _op_name(op))
        row = self.array_row(op)
        return self.bind(row.forward, _op_name(row))

    def array_row(self, op: Op) -> Op:
        if op.table is TENSOR_OPS or op.user_defined:
            return op
        if op.name not in TENSOR_OPS:
            raise ValueError(
                f"trace: the op {op.name!r} has no array row (autograd.tensor_ops), so this "
                f"program cannot be replayed on a batch"
            )
        return TENSOR_OPS[op.name]

    def map_code(self, step: _Step, k: int, upstream: str) -> str | None:
        """On Tensors, ``upstream * local`` as numpy code when the traced local is a linear
        map that writes itself out (``g @ W.T``, ``np.broadcast_to(...)``, see
        ``LinearMap.code``); None to apply the local as the engine does."""
        if self.backend != "tensor":
            return None
        code = getattr(step.node.local_grads[k], "code", None)
        if code is None:
            return None
        names = [v.name for v in step.operands]
        text = code(upstream, names, step.out.name, [_param_text(p) for p in step.params])
        if text is not None:
            self.namespace.setdefault("scatter_add", T.scatter_add)
        return text

    def local_text(self, step: _Step, k: int) -> str | None:
        """The local derivative d out / d operand k as code; None when it is the identity
        (the upstream gradient passes on) and "-" for minus the identity."""
        op = step.op
        names = [v.name for v in step.operands]
        out = step.out.name
        if self.backend == "float" and op.derivative_code is not None:
            code = op.derivative_code[k]
            text = _substitute(code, {**_operand_map(op, names), "out": out})
            self.atom = _template(code)[1]
            return _simplified(text)
        self.atom = True  # a call of the row's derivative
        if self.backend == "tensor":
            traced = step.node.local_grads[k]
            if traced is IDENTITY or traced is PASS:
                return None
            if isinstance(traced, float) and traced == -1.0:
                return "-"
        row = self.array_row(op) if self.backend != "float" else op
        params = [_param_text(p) for p in step.params]
        if row.arity is None:  # a primitive: one joint derivative
            fn = self.bind(row.derivative, f"{_op_name(row)}_d")
            text = f"{fn}({', '.join(names + [out] + params)})[{k}]"
        else:
            fn = self.bind(row.derivatives[k], f"{_op_name(row)}_d{k}")
            text = f"{fn}({', '.join(names + [out] + params)})"
            if row is not op and self.backend == "batch" and _is_identity(row.derivatives[k]):
                return None
            if self.backend == "batch" and row.derivatives[k] is T._minus_one:
                return "-"
        if self.backend == "tensor" and (row.broadcasts or row.arity is None):
            shape, out_shape = step.operands[k].shape, step.out.shape
            if shape is not None and shape != out_shape:
                fit = self.bind(T.fit, "_fit")
                text = f"{fit}({text}, {_param_text(shape)}, {_param_text(out_shape)})"
        return text

    # --- the program's text --------------------------------------------------------------

    def _write(self) -> None:
        prog, what, emit = self.prog, self.what, self.lines.append
        args = ", ".join(v.name for v in prog._inputs)
        emit(f"def {what}({args}):")
        for var in prog._constants:
            if isinstance(var.value, np.ndarray):
                self.namespace[var.name] = var.value
        if prog._captured:
            leaves = self.bind(self.leaves, "_leaf")
            for var in prog._captured:
                emit(f"    {var.name} = {leaves}[{var.index}].data")
        guard_vars = self._guard_code()
        for line in guard_vars.get(-1, []):
            emit(line)
        for k, step in enumerate(prog._steps):
            emit(f"    {step.out.name} = {self.forward_text(step)}")
            if self.anomaly:
                finite = self.bind(_finite, "_finite")
                op = self.bind(step.op, "_op")
                args = ", ".join(v.name for v in step.operands)
                emit(f"    {finite}({step.out.name}, {op}, {args})")
            for line in guard_vars.get(k, []):
                emit(line)
        root = prog._root.name
        if prog._has_aux:  # the value and the aux values, in the aux structure's order
            root = f"({root}, ({', '.join(v.name for v in prog._aux_vars)},))"
        if what == "forward":
            emit(f"    return {root}")
            return
        wanted = (
            {id(v) for v in prog._inputs if v.role == "input"}
            if what == "value_and_grad"
            else {id(v) for v in prog._captured}
        )
        needs = self._needs(wanted)
        grads = self._backward(needs)
        if what == "value_and_grad":
            results = []
            for var in prog._inputs:
                if var.role != "input":
                    results.append("None")
                elif id(var) in grads:
                    results.append(grads[id(var)])
                else:
                    results.append(self.zeros(var))
            tail = ", ".join(results) + ("," if len(results) == 1 else "")
            emit(f"    return {root}, ({tail})")
            return
        if prog._captured:
            leaves = self.bind(self.leaves, "_leaf")
            add = self.bind(_accumulator(self.backend), "_accumulate")
            if self.backend == "batch":  # a captured leaf gets the sum over the samples
                size = self.bind(_batch_size, "_batch_size")
                emit(f"    _n = {size}({', '.join(v.name for v in prog._inputs)})")
            for var in prog._captured:
                if id(var) in grads:
                    extra = ", _n" if self.backend == "batch" else ""
                    emit(f"    {add}({leaves}[{var.index}], {grads[id(var)]}{extra})")
        emit(f"    return {root}")

    def zeros(self, var: _Var) -> str:
        if var.shape is not None:
            return f"np.zeros({_param_text(var.shape)})"
        return "0.0"

    def _needs(self, wanted: set[int]) -> set[int]:
        """The values whose gradient is asked for, or which lead to one that is (a value
        needs a gradient if some operand of its op does): the rest is pruned."""
        needs = set(wanted)
        for step in self.prog._steps:
            if not step.detached and any(id(v) in needs for v in step.operands):
                needs.add(id(step.out))
        return needs

    def _backward(self, needs: set[int]) -> dict[int, str]:
        """The reverse pass, one statement per edge; returns each value's gradient name."""
        prog, emit = self.prog, self.lines.append
        root = prog._root
        grads: dict[int, str] = {}
        if id(root) not in needs:
            return grads
        emit("    # the reverse pass: each edge adds upstream * local to its operand's gradient")
        seed = "1.0" if root.shape is None else f"np.ones({_param_text(root.shape)})"
        grads[id(root)] = f"g_{root.name}"
        emit(f"    g_{root.name} = {seed}")
        for step in prog._backward_steps:
            if id(step.out) not in needs:
                continue
            upstream = grads[id(step.out)]
            for k, operand in enumerate(step.operands):
                if operand.role not in ("input", "captured", "step") or id(operand) not in needs:
                    continue
                contribution = self.map_code(step, k, upstream)
                if contribution is None:
                    local = self.local_text(step, k)
                    if local is None:
                        contribution = upstream
                    elif local == "-":
                        contribution = f"-{upstream}"
                    else:
                        contribution = _product(upstream, local, self.atom)
                g = f"g_{operand.name}"
                if id(operand) not in grads:
                    grads[id(operand)] = g
                    emit(f"    {g} = {contribution}")
                elif self.backend == "float":
                    emit(f"    {g} += {contribution}")
                else:  # arrays: never in place (an operand's gradient may share the array)
                    emit(f"    {g} = {g} + {contribution}")
        return grads

    def _guard_code(self) -> dict[int, list[str]]:
        prog = self.prog
        position = {id(step.out): k for k, step in enumerate(prog._steps)}
        out: dict[int, list[str]] = {}
        fail = self.bind(_guard_failure, "_fail")
        every = "np.all" if self.backend != "float" else ""
        for number, (symbol, a, b, result) in enumerate(prog._guards):
            k = max(position.get(id(a), -1), position.get(id(b), -1))
            test = f"{a.name} {symbol} {b.name}"
            if self.backend == "float":
                held = f"({test})" if result else f"not ({test})"
            else:
                held = f"{every}({test})" if result else f"not np.any({test})"
            text = repr(test)  # names and a symbol only: identifiers we chose or checked
            out.setdefault(k, []).append(
                f"    if not {held}: {fail}({number}, {text}, {a.name}, {b.name}, {result})"
            )
        return out


def _operand_map(op: Op, names: list[str]) -> dict[str, str]:
    return {"x": names[0]} if op.arity == 1 else {"a": names[0], "b": names[1]}


_templates: dict[str, tuple[str, bool]] = {}


def _template(code: str) -> tuple[str, bool]:
    """A row's code as a format string over its operand names (``{a} * {b}``), and whether it
    is an atom (a name, a number, a call) that needs no parentheses as a factor. Read once
    per row's text with ``tokenize`` and kept."""
    known = _templates.get(code)
    if known is None:
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        parts, previous_end = [], (1, 0)
        for tok in tokens:
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                break
            if tok.start[1] > previous_end[1]:
                parts.append(" " * (tok.start[1] - previous_end[1]))
            text = tok.string.replace("{", "{{").replace("}", "}}")
            if tok.type == tokenize.NAME and tok.string in ("a", "b", "x", "out"):
                text = "{" + tok.string + "}"
            parts.append(text)
            previous_end = tok.end
        body = ast.parse(code, mode="eval").body
        atom = isinstance(body, (ast.Name, ast.Constant, ast.Call, ast.Subscript))
        known = _templates[code] = ("".join(parts), atom)
    return known


_calls: dict[str, str | None] = {}


def _called(code: str) -> str | None:
    """The function a row's forward code calls (``log`` of ``log(x)``), None for an infix
    expression (``a * b``)."""
    if code not in _calls:
        body = ast.parse(code, mode="eval").body
        is_call = isinstance(body, ast.Call) and isinstance(body.func, ast.Name)
        _calls[code] = body.func.id if is_call else None
    return _calls[code]


def _substitute(code: str, mapping: dict[str, str]) -> str:
    """A row's code with its operand names replaced by the program's: ``1.0 - out * out``
    with out = v3 is ``1.0 - v3 * v3`` (a negative number operand in parentheses)."""
    text, _ = _template(code)
    return text.format(**{k: f"({v})" if v.startswith("-") else v for k, v in mapping.items()})


def _simplified(text: str) -> str | None:
    """A local derivative of 1.0 passes the gradient on; -1.0 negates it (both exact)."""
    if text == "1.0":
        return None
    if text == "-1.0":
        return "-"
    return text


def _product(upstream: str, local: str, atom: bool) -> str:
    return f"{upstream} * {local}" if atom else f"{upstream} * ({local})"


def _is_identity(fn: Callable) -> bool:
    return fn is T._identity


def _worded(op: Op) -> Callable:
    """An op's forward on floats, its domain errors worded as the engine words them."""
    forward = op.forward

    def run(*xs: Any) -> Any:
        try:
            return Value._result(forward(*xs), op)
        except FloatingPointError:
            raise
        except (ArithmeticError, ValueError) as error:
            raise op_error(op, Value, xs, error) from None

    return run


def _finite(value: Any, op: Op, *xs: Any) -> None:
    """detect_anomaly in a replay: a result that is nan or inf is an error at its op, worded
    as the engine words it."""
    if not np.all(np.isfinite(value)):
        kind = Value if np.ndim(value) == 0 and not isinstance(value, np.ndarray) else Tensor
        raise FloatingPointError(f"{op.name}: {kind._nonfinite(value)}, at {kind._call(op, xs)}")


def _accumulator(backend: str) -> Callable:
    if backend == "float":

        def add(leaf: Node, g: float) -> None:
            leaf.grad = leaf.grad + g

        return add
    if backend == "batch":

        def add_batch(leaf: Node, g: Any, n: int) -> None:
            # per-sample gradients, or one that no sample changes: the sum over the n samples
            leaf.grad = leaf.grad + float(np.sum(np.broadcast_to(g, (n,))))

        return add_batch

    def add_array(leaf: Node, g: Any) -> None:
        if leaf.grad is None:
            leaf.grad = Tensor._owned(g)
        else:
            leaf.grad += g

    return add_array


def _batch_size(*args: Any) -> int:
    return next(np.shape(a)[0] for a in args if np.ndim(a) == 1)


def _guard_failure(number: int, comparison: str, a: Any, b: Any, traced: bool) -> None:
    shown_a = a if np.ndim(a) == 0 else f"an array of {np.size(a)} samples"
    shown_b = b if np.ndim(b) == 0 else f"an array of {np.size(b)} samples"
    raise TraceError(
        f"guard {number}: {comparison} was {traced} when the program was traced and is not "
        f"now ({shown_a!r} vs {shown_b!r}): the program only knows the traced branch; trace "
        f"again with inputs that take this one"
    )
