"""Modes: ``no_grad`` / ``enable_grad``, ``detect_anomaly`` and ``name_scope`` (``name_scopes``).

Each thread has its own modes, as in PyTorch: a ``with no_grad():`` in one thread does not
stop another thread from recording. They live in a ``contextvars.ContextVar`` (each thread
has its own context, and so does each asyncio task), as one immutable ``_State``; a mode's
``with`` block sets a new state and restores the one it replaced.

An op's fast path first reads ``entered``, a list that holds one item per mode block open in
any thread (empty: nothing to look up; appending and popping are atomic, so no lock), else
one context variable, ``current()``, whose ``.fast`` is the scope to record when recording
plainly (grad on, anomaly off) and None when the op must take the slow path.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import itertools
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """The modes of one context: immutable, so a block's state can be cached and shared."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "fast", "previous")

    def __init__(
        self,
        grad_enabled: bool,
        anomaly: bool,
        scope: tuple[str, ...],
        previous: _State | None = None,
    ) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope  # the name_scope names open, outermost first
        self.fast = scope if grad_enabled and not anomaly else None
        self.previous = previous  # the state this one replaced (restored when its block ends)


_state: contextvars.ContextVar[_State] = contextvars.ContextVar(
    "tracegrad_modes",
    default=_State(True, False, ()),  # noqa: B039 - a _State is never changed, only replaced
)
current = _state.get  # the modes of this thread (or task)
entered: list[None] = []  # one item per mode block open, in any thread


class _Modes:
    """The current modes read as attributes: ``_modes.grad_enabled``, ``.anomaly``,
    ``.scope`` (for the paths that are not an op's fast path)."""

    @property
    def grad_enabled(self) -> bool:
        return _state.get().grad_enabled

    @property
    def anomaly(self) -> bool:
        return _state.get().anomaly

    @property
    def scope(self) -> tuple[str, ...]:
        return _state.get().scope


_modes = _Modes()


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

    _cache: tuple[_State | None, _State | None] = (None, None)  # (state before, state within)

    def _switch(self, old: _State) -> _State:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> None:
        old = _state.get()
        cached = self._cache
        if cached[0] is not old:  # the same block entered from the same state: reuse it
            cached = self._cache = (old, self._switch(old))
        _state.set(cached[1])
        entered.append(None)

    def __exit__(self, *exc: object) -> None:
        entered.pop()
        _state.set(_state.get().previous)

    def __call__(self, fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, fn: F) -> F:
        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            inner = fn(*args, **kwargs)
            # Every resumption (next, send, throw, close) runs the body under the mode; the
            # caller's code between resumptions runs under the caller's own modes.
            try:
                with self:
                    response = inner.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self:
                            inner.close()
                        raise
                    except BaseException:
                        with self:
                            response = inner.throw(*sys.exc_info())
                    else:
                        with self:
                            response = inner.send(request)
            except StopIteration as done:
                return done.value

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
        return _State(False, old.anomaly, old.scope, old)


class enable_grad(_ModeContext):
    """Turn recording back on inside ``no_grad`` (``backward(create_graph=True)`` uses it)."""

    def _switch(self, old: _State) -> _State:
        return _State(True, old.anomaly, old.scope, old)


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
        return _State(old.grad_enabled, True, old.scope, old)


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
        return _State(old.grad_enabled, old.anomaly, old.scope + (self.name,), old)

    def __repr__(self) -> str:
        return f"name_scope({self.name!r})"


class name_scopes:
    """Sibling scopes opened in turn in one block, for a loop that opens a scope per item
    (nn's Layer, a scope per neuron): the block opens the first scope, and each item drawn
    from its iterator after the first moves to the next scope. When the block ends, the
    modes it found are restored. The same nodes' ``.scope`` as a ``with name_scope(...)``
    per item, at under half the cost: one context switch per item, no block each.

    >>> from autograd import Value
    >>> neurons = name_scopes(["neuron0", "neuron1"])
    >>> with neurons as entering:
    ...     ys = [Value(2.0) * k for k, _ in zip((1, 2), entering)]
    >>> [y.scope for y in ys]
    [('neuron0',), ('neuron1',)]

    Loop over the items first and the iterator second (``zip(items, entering)``): zip then
    stops at the last item without moving on. ``.scopes`` are the name_scope objects, for
    code that opens one on its own (a layer creates each neuron's parameters in its scope).
    """

    __slots__ = ("scopes", "_cache")

    def __init__(self, names: Sequence[str]) -> None:
        self.scopes = tuple(name_scope(name) for name in names)  # each name checked there
        if not self.scopes:
            raise ValueError("name_scopes: needs at least one name, got none")
        # (state before the block, the sibling states within it): a model's layer enters
        # its block from the same state on every call, so the states are made once.
        self._cache: tuple[_State | None, tuple[_State, ...]] = (None, ())

    def __enter__(self) -> Iterator[object]:
        old = _state.get()
        cached = self._cache
        if cached[0] is not old:
            cached = self._cache = (old, tuple(s._switch(old) for s in self.scopes))
        within = cached[1]
        _state.set(within[0])
        entered.append(None)
        # Drawing an item is a C-level call of ContextVar.set: no Python frame per item.
        return itertools.chain((None,), map(_state.set, within[1:]))

    def __exit__(self, *exc: object) -> None:
        entered.pop()
        _state.set(_state.get().previous)  # every sibling state's previous is the one found

    def __repr__(self) -> str:
        return f"name_scopes({[s.name for s in self.scopes]!r})"


# --- what traces record while f runs (autograd/trace.py) ---------------------------------
# A comparison of Values becomes a guard, and an op under no_grad a step without gradient:
# both are looked for only while some thread traces (tracing[0], one list read), then in
# this thread's tracer.

tracing = [0]  # traces being recorded, in any thread
_trace_local = threading.local()  # .tracer: the tracer recording in this thread, or None


def active_tracer() -> Any:
    """The tracer recording in this thread, or None."""
    return getattr(_trace_local, "tracer", None)


def record_guard(symbol: str, a: Any, b: Any, result: bool) -> None:
    """A comparison of Values (``a < b``...) seen while tracing: the program checks that a
    replay takes the same branch."""
    tracer = active_tracer()
    if tracer is not None:
        tracer.guards.append((symbol, a, b, result))
