"""Modes: ``no_grad`` / ``enable_grad``, ``detect_anomaly`` and ``name_scope``.

Each thread has its own modes, as in PyTorch: a ``with no_grad():`` in one thread does not
stop another thread from recording. They live in a ``contextvars.ContextVar`` (each thread
has its own context, and so does each asyncio task) as one immutable ``_State``.

Leaving a block restores exactly what entering it replaced: entering keeps the
``ContextVar`` token of its change, and leaving resets to it, so a block left early (an
exception, a ``KeyboardInterrupt``) cannot leave an outer block's state behind. A function
decorated with a mode runs in a copy of the caller's context (``Context.run``), so nothing it
sets can reach the caller at all, whenever an interrupt arrives; the library's own code
(``nn``'s forward passes and ``predict``, traces) uses the modes that way.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """The modes of one context. Immutable: a block makes a new one and restores the old."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "fast")

    def __init__(self, grad_enabled: bool, anomaly: bool, scope: tuple[str, ...]) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope  # the name_scope names open, outermost first
        # An op records plainly (no check, a node with parents) exactly when grad is on and
        # anomaly off: then ``fast`` is the scope to give it, else None (one test per op).
        self.fast = scope if grad_enabled and not anomaly else None


_DEFAULT = _State(True, False, ())
_state: contextvars.ContextVar[_State] = contextvars.ContextVar("tracegrad_modes", default=_DEFAULT)
current = _state.get  # the modes of this thread (or task)


def is_grad_enabled() -> bool:
    """Whether ops in this thread record their parents (False inside ``no_grad``).

    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _state.get().grad_enabled


class _ModeContext:
    """A context manager that is also a decorator, like ``torch.no_grad``.

    Decorating a generator function applies the mode while the generator's body runs, each
    time it is resumed (as PyTorch wraps generators), not only while it is created.
    """

    def _switch(self, old: _State) -> _State:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> None:
        # Python checks for interrupts between any two steps of a ``with`` statement's own
        # code, so a block cannot be made interrupt-proof: code that must be (the library's)
        # runs its modes through ``Context.run`` instead (``__call__``, ``name_scope.run``).
        tokens = self.__dict__.setdefault("_tokens", [])
        tokens.append(_state.set(self._switched(_state.get())))

    def __exit__(self, *exc: object) -> None:
        _state.reset(self._tokens[-1])
        self._tokens.pop()

    def _switched(self, old: _State) -> _State:
        """The state this mode makes of ``old``; the last one is kept, as a block is mostly
        entered from the same state (a layer's scope at every forward pass)."""
        cached = self.__dict__.get("_last")
        if cached is None or cached[0] is not old:
            cached = self._last = (old, self._switch(old))
        return cached[1]

    def _run(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """Call ``fn`` under this mode in a copy of the current context: the caller's modes
        are never changed, so there is nothing to restore."""
        return contextvars.copy_context().run(self._call_switched, fn, args, kwargs)

    def _call_switched(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        _state.set(self._switched(_state.get()))  # in the copied context only
        return fn(*args, **kwargs)

    def run(self, fn: Callable, *args: Any) -> Any:
        """``fn(*args)`` under this mode, in a copy of the current context (as a decorated
        function runs): what the library uses, so an interrupt cannot leave a mode behind.

        >>> from autograd import Value
        >>> name_scope("layer0").run(lambda: (Value(2.0) * 3).scope)
        ('layer0',)
        """
        return self._run(fn, args, {})

    def __call__(self, fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self._run(fn, args, kwargs)

        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, fn: F) -> F:
        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            inner = fn(*args, **kwargs)
            # Every resumption (next, send, throw, close) runs the body under the mode; the
            # caller's code between resumptions runs under the caller's own modes.
            resume, value = inner.send, None
            while True:
                try:
                    response = self._run(resume, (value,), {})
                except StopIteration as done:
                    return done.value
                try:
                    value = yield response
                    resume = inner.send
                except GeneratorExit:
                    self._run(inner.close, (), {})
                    raise
                except BaseException as error:  # thrown in: the body gets to handle it
                    resume, value = inner.throw, error

        return generator  # type: ignore[return-value]


class no_grad(_ModeContext):
    """Ops inside record no parents: their results are leaves. Thread-local.

    >>> from autograd import Value
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.op, y.parents
    ('', ())
    """

    def _switch(self, old: _State) -> _State:
        return _State(False, old.anomaly, old.scope)


class enable_grad(_ModeContext):
    """Turn recording back on inside ``no_grad`` (``backward(create_graph=True)`` uses it)."""

    def _switch(self, old: _State) -> _State:
        return _State(True, old.anomaly, old.scope)


class detect_anomaly(_ModeContext):
    """Raise ``FloatingPointError`` when an op's result or a gradient is nan or inf.

    The error names the op and its inputs, at the op (forward) or at the node whose
    gradient went bad (backward). Thread-local, slower: for debugging.

    >>> from autograd import Value
    >>> with detect_anomaly():
    ...     Value(float("inf")) - Value(float("inf"))
    Traceback (most recent call last):
    FloatingPointError: -: result is nan, at inf - inf
    """

    def _switch(self, old: _State) -> _State:
        return _State(old.grad_enabled, True, old.scope)


class name_scope(_ModeContext):
    """Nodes made inside get ``name`` appended to their ``.scope``; scopes nest and are
    thread-local. viz groups and collapses a drawing by scope; nn opens one per layer.

    >>> from autograd import Value
    >>> with name_scope("layer0"):
    ...     with name_scope("neuron1"):
    ...         y = Value(2.0) * 3
    >>> y.scope
    ('layer0', 'neuron1')
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name_scope: name must be a non-empty str, got {name!r}")
        self.name = name

    def _switch(self, old: _State) -> _State:
        return _State(old.grad_enabled, old.anomaly, old.scope + (self.name,))

    def __repr__(self) -> str:
        return f"name_scope({self.name!r})"


# --- what traces record while f runs (autograd/trace) -----------------------------------
# A comparison of Values becomes a guard, and an op under no_grad a step without gradient.
# The tracer recording in this context, if any, is a context variable too.

_tracer: contextvars.ContextVar[Any] = contextvars.ContextVar("tracegrad_tracer", default=None)
active_tracer = _tracer.get


def record_guard(symbol: str, a: Any, b: Any, result: bool) -> None:
    """A comparison of Values (``a < b``...) seen while tracing: the program checks that a
    replay takes the same branch."""
    tracer = _tracer.get()
    if tracer is not None:
        tracer.guards.append((symbol, a, b, result))


def record_detached(node: Any, op: Any, operands: tuple, params: tuple) -> None:
    """An op run under ``no_grad`` while tracing: the program replays it (its value follows
    new inputs) though no gradient flows through it."""
    tracer = _tracer.get()
    if tracer is not None:
        tracer.detached[node] = (op, operands, params)
