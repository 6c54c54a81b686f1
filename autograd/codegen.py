"""Code generation: a ``Program`` written out as straight-line Python.

The code is made from the op rules themselves (``ops.py``, ``tensor_ops.py``): each rule is a
function ``out = <forward>; return out, (<local>, ...)``, and its source, read once with
``ast``, gives the text of a forward statement and of every edge's local derivative, with the
program's names put in for the rule's parameters. So ``o = tanh(n)`` and
``g_n = g_o * (1.0 - o * o)`` are ``ops.tanh``'s own lines, and a replay computes what the
engine computes, the same operations on the same numbers.

The reverse pass is written in the order of the engine's own ``reverse_pass``: one statement
per edge, ``g_parent = g_node * local`` the first time a parent is reached and
``g_parent += g_node * local`` after, which is the chain rule as the engine applies it.

One generator serves three back ends, which differ only in the functions the names are bound
to: floats (the rules' functions, their domain errors worded as the engine words them),
batches (the same code on 1-d arrays of samples) and Tensors (arrays of the traced shapes;
the linear maps of ``@``, reductions and softmax write their own numpy code).

What the code may contain: names the generator makes (``v3``, ``g_v3``), identifiers from the
user's labels and ``f``'s parameters (plain ASCII identifiers only, never a keyword or a name
the code needs) and ``repr()`` of numbers. Nothing else a user typed reaches it. The code is
compiled once per program and back end, and registered with ``linecache`` under a name that
says which program it is, so a traceback or a debugger inside a replay shows its lines.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import itertools
import keyword
import linecache
import math
import re
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functions as F
from . import tensor_ops as T
from .engine import Node, op_error
from .ops import ELEMENTWISE_OPS, Op, describe_call
from .tensor import Tensor
from .tensor_ops import IDENTITY, NO_GRADIENT, PASS, TENSOR_OPS
from .value import Value

# --- a rule's source as code -----------------------------------------------------------


class RuleCode:
    """A rule's forward and local derivatives as expressions (``ast``), read from its source.

    >>> from autograd import ops
    >>> code = RuleCode.of(ops.tanh)
    >>> code.params, ast.unparse(code.forward), [ast.unparse(d) for d in code.locals]
    (['x'], 'F.tanh(x)', ['1.0 - out * out'])
    """

    _known: dict[Callable, RuleCode] = {}

    def __init__(self, params: list[str], forward: ast.expr, locals_: list[ast.expr]) -> None:
        self.params = params
        self.forward = forward
        self.locals = locals_
        # The same expressions as text with a placeholder for each name, made once: a
        # program of 70,000 ops fills them in, rather than rewriting 200,000 trees.
        self.forward_template = Template(forward, params)
        self.local_templates = [Template(local, params) for local in locals_]

    @classmethod
    def of(cls, rule: Callable) -> RuleCode:
        known = cls._known.get(rule)
        if known is None:
            known = cls._known[rule] = cls._read(rule)
        return known

    @staticmethod
    def _read(rule: Callable) -> RuleCode:
        (fn,) = ast.parse(textwrap.dedent(inspect.getsource(rule))).body
        assign, ret = fn.body[-2], fn.body[-1]
        shape_ok = (
            isinstance(fn, ast.FunctionDef)
            and len(fn.body) == 2
            and isinstance(assign, ast.Assign)
            and [t.id for t in assign.targets if isinstance(t, ast.Name)] == ["out"]
            and isinstance(ret, ast.Return)
            and isinstance(ret.value, ast.Tuple)
            and len(ret.value.elts) == 2
            and isinstance(ret.value.elts[1], ast.Tuple)
        )
        if not shape_ok:
            raise ValueError(
                f"the rule {rule.__name__} is not of the form 'out = <forward>; return out, "
                f"(<local>, ...)', which code generation reads"
            )
        params = [a.arg for a in fn.args.args]
        return RuleCode(params, assign.value, list(ret.value.elts[1].elts))


class _Substitute(ast.NodeTransformer):
    """Put the program's expressions in for a rule's names; ``F.exp`` becomes ``exp``."""

    def __init__(self, mapping: dict[str, ast.expr]) -> None:
        self.mapping = mapping
        self.functions: set[str] = set()
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.mapping:
            return self.mapping[node.id]
        self.names.add(node.id)  # a function or class of the rule's module
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if isinstance(node.value, ast.Name) and node.value.id == "F":
            self.functions.add(node.attr)
            return ast.Name(node.attr, ast.Load())
        self.generic_visit(node)
        return node


class Template:
    """A rule's expression as text with a placeholder for each of the rule's names (its
    parameters and ``out``), the functions it calls, and whether it is an atom (a name, a
    number, a call: no parentheses needed as a factor) or the number 1.0 or -1.0.

    >>> from autograd import ops
    >>> t = Template(RuleCode.of(ops.tanh).locals[0], ["x"])
    >>> t.fill({"x": "n", "out": "o"}), t.atom
    ('1.0 - o * o', False)
    """

    _MARK = re.compile(r"_P_(\w+?)_P_")

    def __init__(self, expr: ast.expr, params: list[str]) -> None:
        marked = {name: ast.Name(f"_P_{name}_P_", ast.Load()) for name in [*params, "out"]}
        sub = _Substitute(marked)
        tree = sub.visit(_copy(expr))
        self.text = ast.unparse(tree)
        self.functions = sorted(sub.functions)
        self.names = sorted(n for n in sub.names if not self._MARK.fullmatch(n))
        self.atom = isinstance(tree, (ast.Name, ast.Constant, ast.Call, ast.Subscript))
        self.one = _is_number(expr, 1.0)
        self.minus_one = _is_number(expr, -1.0)

    def fill(self, values: dict[str, str]) -> str:
        """The text with each placeholder replaced by its value's code (a name, a number, a
        parameter's literal); a negative number in parentheses."""

        def value(match: re.Match) -> str:
            text = values[match.group(1)]
            return f"({text})" if text.startswith("-") else text

        return self._MARK.sub(value, self.text)


def _expression(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _is_number(node: ast.expr, value: float) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_number(node.operand, -value)
    return isinstance(node, ast.Constant) and node.value == value and type(node.value) is float


# --- names the code may use ------------------------------------------------------------


def function_names() -> set[str]:
    """Every name an op's code may call or bind: the rules' helper functions and the names
    given to ops. A label equal to one of them is not used as a variable name."""
    names = {name for name in dir(F) if not name.startswith("_")}
    for row in list(ELEMENTWISE_OPS) + list(TENSOR_OPS):
        base = op_name(row)
        names |= {base, f"{base}_d"}
    return names


RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {
    "np", "inf", "nan", "primitive", "forward", "value_and_grad", "backward", "F", "T",
}  # fmt: skip


def op_name(op: Op) -> str:
    """An op's name as a function name in code: a row's name (a symbol by its method's: ``*``
    is ``mul``), a primitive's when it is a plain identifier, else ``primitive``."""
    name = op.name
    if op.symbol and not op.user_defined:
        return op.methods[0].strip("_")
    plain = name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    if op.user_defined:
        return name if plain and name not in RESERVED else "primitive"
    return name if plain else "op"


def literal(x: float) -> str:
    """A number as code."""
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


# --- the generator ---------------------------------------------------------------------

_programs = itertools.count(1)


class Generator:
    """Writes one program's code for one back end (``"float"``, ``"batch"``, ``"tensor"``)
    and one job (``"forward"``, ``"value_and_grad"``, ``"backward"``)."""

    def __init__(self, prog: Any, backend: str, what: str, anomaly: bool) -> None:
        from .program import TraceError

        self.prog = prog
        self.backend = backend
        self.what = what
        self.anomaly = anomaly
        self.namespace: dict[str, Any] = {"np": np, "TraceError": TraceError, "inf": math.inf,
                                          "nan": math.nan}  # fmt: skip
        self.lines: list[str] = []
        self._bound: dict[int, str] = {}
        self._kept: list[Any] = []
        self.leaves = [v.node for v in prog._captured]

    def bind(self, obj: Any, hint: str) -> str:
        """A name for ``obj`` in the code's namespace (never user text)."""
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
        """The code as a function, its source registered with ``linecache`` so tracebacks and
        debuggers show the generated lines."""
        src = self.source()
        prog = self.prog
        filename = (
            f"<tracegrad program {next(_programs)}: {prog._fname}, {self.what}, {self.backend}>"
        )
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        code = compile(src, filename, "exec")
        exec(code, self.namespace)  # noqa: S102 - our own generated code (see the module doc)
        return self.namespace[self.what]

    # --- an op's text -------------------------------------------------------------------

    def _fill(self, template: Template, step: Any, params_of: list[str]) -> str:
        """A rule's expression with the step's names put in, the functions it calls bound."""
        names = [v.name for v in step.operands]
        values = dict(zip(params_of, names + [_param_code(p) for p in step.params]))
        values["out"] = step.out.name
        op = step.op
        for name in template.functions:
            fn = getattr(F, name)
            # On floats a function that can refuse its operand is called through a wrapper
            # that words the error as the engine does (naming the op); the rest directly.
            worded = self.backend == "float" and name in F.CAN_REFUSE
            self._bind_as(name, _worded(op, fn) if worded else fn)
        if template.names:
            module = inspect.getmodule(op.rule)
            for name in template.names:
                if name not in self.namespace and hasattr(module, name):
                    self._bind_as(name, getattr(module, name))
        return template.fill(values)

    def _bind_as(self, name: str, obj: Any) -> None:
        if name not in self.namespace:
            self.namespace[name] = obj
            self._kept.append(obj)

    def forward_text(self, step: Any) -> str:
        op = step.op
        names = [v.name for v in step.operands]
        if op.user_defined:
            forward = _worded(op, op.forward) if self.backend == "float" else op.forward
            fn = self.bind(forward, op_name(op))
            return f"{fn}({', '.join(names)})"
        if op.symbol and len(names) == 2 and self.backend != "float":
            return f"{names[0]} {op.name} {names[1]}"  # numpy's operators, as the rule's
        code = RuleCode.of(op.rule)
        return self._fill(code.forward_template, step, code.params)

    def map_code(self, step: Any, k: int, upstream: str) -> str | None:
        """On Tensors, ``upstream * local`` as numpy code when the traced local is a linear
        map that writes itself out (``g @ W.T``, see ``LinearMap.code``)."""
        if self.backend != "tensor":
            return None
        code = getattr(step.node.local_grads[k], "code", None)
        if code is None:
            return None
        names = [v.name for v in step.operands]
        text = code(upstream, names, step.out.name, [_param_code(p) for p in step.params])
        if text is not None:
            self._bind_as("scatter_add", T.scatter_add)
        return text

    def contribution(self, step: Any, k: int, upstream: str) -> str:
        """``upstream * local`` for operand k of the step, as code: the rule's local
        derivative with the step's names put in (a 1.0 passes the gradient on)."""
        mapped = self.map_code(step, k, upstream)
        if mapped is not None:
            return mapped
        traced = step.node.local_grads[k] if self.backend == "tensor" else None
        if traced is IDENTITY or traced is PASS:
            return upstream
        op = step.op
        if op.user_defined:
            fn = self.bind(op.derivative, f"{op_name(op)}_d")
            names = [v.name for v in step.operands]
            local, atom = f"{fn}({', '.join(names + [step.out.name])})[{k}]", True
        else:
            code = RuleCode.of(op.rule)
            template = code.local_templates[k]
            local, atom = self._fill(template, step, code.params), template.atom
            if not isinstance(traced, T.SumTo):
                if template.one:
                    return upstream
                if template.minus_one:
                    return f"-{upstream}"
        if isinstance(traced, T.SumTo):  # an operand numpy broadcast: summed back to its shape
            fit = self.bind(T.fit, "_fit")
            shape, out_shape = step.operands[k].shape, step.out.shape
            local = f"{fit}({local}, {_param_code(shape)}, {_param_code(out_shape)})"
            atom = True
        return f"{upstream} * {local}" if atom else f"{upstream} * ({local})"

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
        grads = self._backward(self.prog._gradient_needs(wanted))
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

    def zeros(self, var: Any) -> str:
        if var.shape is not None:
            return f"np.zeros({_param_code(var.shape)})"
        return "0.0"

    def _backward(self, needs: set[int]) -> dict[int, str]:
        """The reverse pass, one statement per edge, in the engine's order (the program's
        ``_backward_steps`` come from ``engine.reverse_pass``); returns each value's gradient
        name."""
        prog, emit = self.prog, self.lines.append
        root = prog._root
        grads: dict[int, str] = {}
        if id(root) not in needs:
            return grads
        emit("    # the reverse pass: each edge adds upstream * local to its operand's gradient")
        seed = "1.0" if root.shape is None else f"np.ones({_param_code(root.shape)})"
        grads[id(root)] = f"g_{root.name}"
        emit(f"    g_{root.name} = {seed}")
        for step in prog._backward_steps:
            if id(step.out) not in needs:
                continue
            upstream = grads[id(step.out)]
            for k, operand in enumerate(step.operands):
                if operand.role not in ("input", "captured", "step") or id(operand) not in needs:
                    continue
                if self.backend == "tensor" and step.node.local_grads[k] is NO_GRADIENT:
                    continue
                contribution = self.contribution(step, k, upstream)
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
        for number, (symbol, a, b, result) in enumerate(prog._guards):
            k = max(position.get(id(a), -1), position.get(id(b), -1))
            test = f"{a.name} {symbol} {b.name}"
            if self.backend == "float":
                held = f"({test})" if result else f"not ({test})"
            else:
                held = f"np.all({test})" if result else f"not np.any({test})"
            text = repr(test)  # names and a symbol only: identifiers we chose or checked
            out.setdefault(k, []).append(
                f"    if not {held}: {fail}({number}, {text}, {a.name}, {b.name}, {result})"
            )
        return out


def _copy(tree: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(tree), mode="eval").body


def _param_code(p: Any) -> str:
    """A parameter as code: numbers, bools, None and tuples of them as literals; a constant
    array by its generated name."""
    if hasattr(p, "role"):  # a program value (a constant array)
        return p.name
    if p is None or isinstance(p, bool):
        return repr(p)
    if isinstance(p, (int, np.integer)):
        return repr(int(p))
    if isinstance(p, (float, np.floating)):
        return literal(float(p))
    if isinstance(p, tuple):
        inner = ", ".join(_param_code(q) for q in p)
        return f"({inner},)" if len(p) == 1 else f"({inner})"
    if isinstance(p, slice):
        return f"slice({_param_code(p.start)}, {_param_code(p.stop)}, {_param_code(p.step)})"
    if p is Ellipsis:
        return "Ellipsis"
    raise TypeError(f"trace: cannot write the parameter {type(p).__name__} as code")


# --- what replays call -----------------------------------------------------------------


def _worded(op: Op, function: Callable) -> Callable:
    """A rule's function on floats, its domain errors worded as the engine words them
    (``log: input must be > 0, at log(-1.0)``)."""

    def worded(*xs: Any) -> Any:
        try:
            return Value._result(function(*xs), op)
        except FloatingPointError:
            raise
        except (ArithmeticError, ValueError) as error:
            raise op_error(op, Value, xs, error) from None

    worded.__name__ = getattr(function, "__name__", "forward")
    return worded


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
        # A replay's gradients may share arrays (g_a = g_out): a leaf gets its own copy.
        leaf._add_to_grad(g if leaf.grad is not None else np.array(g, dtype=np.float64))

    return add_array


def _batch_size(*args: Any) -> int:
    return next(np.shape(a)[0] for a in args if np.ndim(a) == 1)


def _guard_failure(number: int, comparison: str, a: Any, b: Any, traced: bool) -> None:
    from .program import TraceError

    shown_a = a if np.ndim(a) == 0 else f"an array of {np.size(a)} samples"
    shown_b = b if np.ndim(b) == 0 else f"an array of {np.size(b)} samples"
    raise TraceError(
        f"guard {number}: {comparison} was {traced} when the program was traced and is not "
        f"now ({shown_a!r} vs {shown_b!r}): the program only knows the traced branch; trace "
        f"again with inputs that take this one"
    )


__all__ = ["Generator", "RuleCode", "describe_call"]
