"""``trace``: run a function once on nodes and keep its graph as a ``Program``.

This module records; ``program.py`` builds the program from the recording (its listing and
its replays) and ``codegen.py`` writes its code. While ``f`` runs, a tracer is the context's
active one (``modes.active_tracer``): a comparison of Values is recorded as a guard of the
program, and an op under ``no_grad`` as a step without gradient.

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

import contextvars
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import Node
from .modes import _tracer, enable_grad
from .program import Program, TraceError, _aux_nodes, _is_number, _Var
from .tensor import Tensor
from .value import Value

__all__ = ["trace", "Program", "TraceError"]


class _Tracer:
    """What a running trace collects besides the graph: guards and no_grad ops."""

    def __init__(self) -> None:
        self.guards: list[tuple] = []
        self.detached: dict[Node, tuple] = {}

    def run(self, f: Callable, args: list) -> Any:
        """``f(*args)`` with recording on and this tracer active, in a copy of the current
        context: nothing is left behind in the caller's, however ``f`` ends."""

        def recording() -> Any:
            _tracer.set(self)
            with enable_grad():
                return f(*args)

        return contextvars.copy_context().run(recording)


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
    tracer = _Tracer()
    out = tracer.run(f, call_args)
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("trace: with has_aux=True, f must return a pair (node, aux)")
        out, aux = out
        _aux_nodes(aux)  # checks its structure
    if not isinstance(out, Node):
        raise TypeError(f"trace: f must return a Value or a Tensor, got {type(out).__name__}")
    return Program(getattr(f, "__name__", "f"), names, inputs, out, tracer, aux, has_aux)
