"""``Program``: a traced graph as a program, its listing, and its replays.

``trace`` (``trace.py``) records a function's graph; a ``Program`` is built from it here: its
values (inputs, captured leaves, op results, constants), one step per recorded op in an order
where every operand comes first, names for everything (the user's labels where they are plain
identifiers), the listing (``str(prog)``), and the replays, which check their arguments and
run the code ``codegen.py`` writes.

Control flow is recorded as it happened: each comparison of Values during the trace becomes a
guard, and a replay whose comparison comes out the other way raises ``TraceError``. Python
code that reads ``.data`` and branches on it cannot be seen (as in JAX): the branch taken
while tracing is the only one the program knows.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .codegen import RESERVED, Generator, _param_code, function_names, literal, op_name
from .engine import Node, reverse_pass, topological_order
from .modes import current
from .ops import CONSTANT, Op
from .tensor import Tensor


class TraceError(ValueError):
    """A replay took a branch the trace did not record: a comparison of Values came out the
    other way. Trace again with inputs that take this branch."""


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
        tracer: Any,
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

    def _build(self, root: Node, tracer: Any, extra: list[Node]) -> None:
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
            elif node._b is None:
                operands = [a]
            else:
                operands = [a, node._b]
            return node._op, operands, getattr(node, "_args", ()), False

        # Parents first, the detached ops (no_grad) included: the engine's one order, with
        # the operands a detached op was recorded with as its parents.
        def program_parents(node: Node) -> list[Node]:
            made = operands_of(node) if node not in by_node else None
            return [p for p in made[1] if isinstance(p, Node)] if made is not None else []

        order: list[Node] = []
        for start in [root, *extra]:
            known = set(order)
            order += [
                n for n in topological_order(start, parents=program_parents) if n not in known
            ]
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
        # The reverse pass's order is the engine's own: the nodes as its reverse_pass visits
        # them, so a replay adds the same contributions in the same order.
        seed = root._seed(np.ones(root.data.shape) if self._arrays else 1.0)
        self._backward_steps = [
            step_of[n]
            for n, _, _ in reverse_pass(root, seed)
            if n in step_of and not step_of[n].detached
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
        reserved = RESERVED | function_names()
        for step in self._steps:  # a primitive's forward and derivative are called by name
            if step.op.user_defined:
                reserved |= {op_name(step.op), f"{op_name(step.op)}_d"}
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
                var.name = literal(var.value)

    def _gradient_needs(self, wanted: set[int]) -> set[int]:
        """The values (by id) whose gradient is asked for, or which lead to one that is (a
        value needs a gradient if some operand of its op does): what the generated code
        computes; the rest is pruned."""
        needs = set(wanted)
        for step in self._steps:
            if not step.detached and any(id(v) in needs for v in step.operands):
                needs.add(id(step.out))
        return needs

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
            params = [_param_code(p) for p in step.params]
            text = f"{op_name(op)}({', '.join(names + params)})"
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
        return Generator(self, backend, what, anomaly).source()

    def _function(self, backend: str, what: str) -> Callable:
        anomaly = current().anomaly
        key = (backend, what, anomaly)
        fn = self._compiled.get(key)
        if fn is None:
            gen = Generator(self, backend, what, anomaly)
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
