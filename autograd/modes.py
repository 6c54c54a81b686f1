"""Thread-local modes: ``no_grad`` / ``enable_grad``, ``detect_anomaly`` and ``name_scope``.

Each thread has its own modes, as in PyTorch: a ``with no_grad():`` in one thread does not
stop another thread from recording. An op's fast path first reads ``entered[0]``, the number
of mode contexts open in any thread (zero: nothing to look up), else one thread-local
attribute, ``_modes.fast_scope``.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Modes(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: tuple[str, ...] = ()  # the name_scope names open, outermost first
        # What an op's fast path reads, in one look-up (a thread-local attribute costs as
        # much as a small op): the scope when recording plainly (grad on, anomaly off),
        # None when the op must take the slow path.
        self.fast_scope: tuple[str, ...] | None = ()

    def set(self, grad_enabled: bool, anomaly: bool, scope: tuple[str, ...]) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope
        self.fast_scope = scope if grad_enabled and not anomaly else None


_modes = _Modes()
entered = [0]  # mode contexts currently open, in all threads
_entered_lock = threading.Lock()


def is_grad_enabled() -> bool:
    """Whether ops in this thread record their parents (False inside ``no_grad``).

    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _modes.grad_enabled


class _ModeContext:
    """A context manager that is also a decorator, like ``torch.no_grad``.

    Decorating a generator function applies the mode while the generator's body runs, each
    time it is resumed (as PyTorch wraps generators), not only while it is created.
    """

    def _switch(self) -> tuple[bool, bool, tuple[str, ...]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> None:
        # The previous modes live on a per-thread stack, so one instance can be shared
        # between threads or re-entered (as a decorator of a recursive function).
        stack = _saved.__dict__.setdefault("stack", [])
        stack.append((_modes.grad_enabled, _modes.anomaly, _modes.scope))
        with _entered_lock:
            entered[0] += 1
        _modes.set(*self._switch())

    def __exit__(self, *exc: object) -> None:
        _modes.set(*_saved.stack.pop())
        with _entered_lock:
            entered[0] -= 1

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


_saved = threading.local()


class no_grad(_ModeContext):
    """Ops inside record no parents: their results are leaves. Thread-local.

    >>> from autograd import Value
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.op, y.parents
    ('', ())
    """

    def _switch(self) -> tuple[bool, bool, tuple[str, ...]]:
        return False, _modes.anomaly, _modes.scope


class enable_grad(_ModeContext):
    """Turn recording back on inside ``no_grad`` (``backward(create_graph=True)`` uses it)."""

    def _switch(self) -> tuple[bool, bool, tuple[str, ...]]:
        return True, _modes.anomaly, _modes.scope


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

    def _switch(self) -> tuple[bool, bool, tuple[str, ...]]:
        return _modes.grad_enabled, True, _modes.scope


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

    def _switch(self) -> tuple[bool, bool, tuple[str, ...]]:
        return _modes.grad_enabled, _modes.anomaly, _modes.scope + (self.name,)

    def __repr__(self) -> str:
        return f"name_scope({self.name!r})"


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
