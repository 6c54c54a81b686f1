"""The ``tracegrad`` command: draw or gradcheck one expression, or run a demo.

    tracegrad graph "tanh(x*w + b)" x=1 w=-2 b=0.5 -o graph.svg
    tracegrad check "log(x) * y" x=2 y=3
    tracegrad demo xor --epochs 200 --svg xor.svg
    tracegrad --version                   # also: python -m tracegrad ...

Expressions are parsed with ``ast`` against a whitelist and never evaluated by Python:
numbers, names bound on the command line, ``+ - * / **``, unary ``-``/``+``, parentheses and
calls of the op table's functions (``functions()``) with one argument. Exit status: 0
success, 1 a domain error (the op's message) or a value that overflows a float (an error
at that op, as the engine's own ``10**400`` is), a failed gradcheck, or a picture or
environment problem (no Graphviz, another package named autograd), 2 bad input (a one-line
message on stderr). Every check of the input, output paths and graph size included, comes
before any slow work.

This module imports nothing of the engine at import time, so ``--version`` and ``--help``
work without numpy.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import operator
import os
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__


def functions() -> tuple[str, ...]:
    """The functions an expression may call: the one-operand ops of the engine's scalar op
    table, each the Value method of that name (a row added to the table is one more). Read
    when needed, so that ``--version`` imports no engine.

    >>> functions()[:3]
    ('exp', 'log', 'tanh')
    """
    from autograd.ops import ELEMENTWISE_OPS as SCALAR_OPS

    return SCALAR_OPS.functions()


# Long enough for any expression typed by hand; short enough that parsing and evaluating
# cannot take long or exhaust memory.
MAX_LENGTH = 1000
# The largest graph `graph` draws unless --max-nodes says otherwise: viz.draw's own default
# (Graphviz takes tens of seconds on a graph of ~1,000 nodes with labelled edges).
MAX_NODES = 500
PICTURE_SUFFIXES = (".svg", ".png", ".pdf", ".dot")
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: lambda v: v}
_STRUCTURE = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_BINARY, *_UNARY)
# Rejected syntax in plain words (anything else is quoted as written).
_PLAIN = {
    ast.Attribute: "attribute access (the dot in a.b)",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and' / 'or'",
    ast.Lambda: "a lambda",
    ast.Subscript: "indexing (x[...])",
    ast.IfExp: "a conditional (... if ... else ...)",
    ast.NamedExpr: "an assignment (:=)",
    ast.Tuple: "a tuple (a comma outside a call)",
    ast.List: "a list",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Starred: "unpacking (*)",
    ast.JoinedStr: "an f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}
_OPERATOR_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Not: "not",
}


def _usage_notes() -> str:
    """The --help epilog: what an expression may hold and the exit statuses."""
    syntax = textwrap.fill(
        "numbers, names bound as name=value, + - * / **, unary -, parentheses and the "
        f"functions {', '.join(functions())}. They are parsed, never run as Python. An "
        "expression starting with '-' goes after '--', options before it: "
        "tracegrad graph -o g.svg -- '-x*2' x=1",
        width=88,
        initial_indent="  ",
        subsequent_indent="  ",
    )
    return (
        f"expressions:\n{syntax}\n\n"
        "exit status:\n"
        "  0  success\n"
        "  1  a domain error (the op's message), an overflow (a value too large for a float:\n"
        "     an error at the op that overflowed, as 10**400 is), a failed gradcheck, or a\n"
        "     picture or set-up problem (no Graphviz, another package named autograd): one\n"
        "     line on stderr. A gradient infinite or too large for a float prints as inf\n"
        "     (sqrt's slope at 0 is infinite: a true answer, not an error)\n"
        "  2  bad input (expression, name=value, option, output path, graph too big): one\n"
        "     line on stderr, before any work is done"
    )


class BadInput(Exception):
    """Input that is not a valid command (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and the usual exit status 2)."""

    def format_help(self) -> str:
        if self.epilog is _NOTES:  # written when help is asked for: it reads the op table
            self.epilog = _usage_notes()
        return super().format_help()

    commands: dict[str, argparse.ArgumentParser] = {}  # the top parser's, by name

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an argument the command does not know is reported knowing the
        command: ``check -o g.svg`` says that check has no -o option."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(
                2,
                f"{self.prog}: error: {_one_line(self._unknown(command, extras))} "
                f"(see {prog} --help)\n",
            )
        return parsed

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")

    def _unknown(self, command: str | None, extras: list[str]) -> str:
        for arg in extras:
            option = arg.split("=", 1)[0]
            owners = [
                name
                for name, sub in self.commands.items()
                if name != command and option in sub._option_string_actions
            ]
            if arg.startswith("-") and owners:  # an option of another command
                return (
                    f"{self.prog} {command} has no {option} option (it is an option of "
                    f"{' and '.join(f'{self.prog} {name}' for name in owners)})"
                )
            if arg.startswith("--") and len(option) > 2:
                return f"{self.prog} {command} has no {option} option"
        return (
            f"unrecognized arguments: {' '.join(extras)} (an expression starting with '-' goes "
            "after '--')"
        )


def _one_line(err: BaseException | str, limit: int = 300) -> str:
    """A message on one line, cut short: it may quote the user's (possibly huge) input."""
    text = " ".join(str(err).splitlines()).strip() or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse(text: str, names: Sequence[str]) -> ast.Expression:
    """Parse ``text`` into a whitelisted expression tree over the bound ``names``.

    >>> parse("tanh(x * 2)", ["x"]).body.func.id
    'tanh'
    >>> parse("x < 1", ["x"])
    Traceback (most recent call last):
    tracegrad.cli.BadInput: not allowed in an expression: a comparison, in 'x < 1'
    >>> parse("x +* 2", ["x"])
    Traceback (most recent call last):
    tracegrad.cli.BadInput: cannot parse the expression: invalid syntax at column 4 of 'x +* 2'
    """
    if len(text) > MAX_LENGTH:
        raise BadInput(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})")
    source = text.strip()  # ast refuses leading blanks ("unexpected indent")
    try:
        with warnings.catch_warnings():  # "1if x" warns on stderr before failing: one line only
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError) as err:  # ValueError: a null byte, on some Pythons
        message = err.msg if isinstance(err, SyntaxError) else str(err)
        raise BadInput(f"cannot parse the expression: {message}{_where(text, err)}") from None
    except (RecursionError, MemoryError):
        raise BadInput("cannot parse the expression: it is nested too deeply") from None
    known = functions()
    called = set()  # the Name nodes that are the function of a call, not a variable
    for node in ast.walk(tree):  # ast.walk is iterative: no recursion on deep trees
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            if func not in known:
                raise BadInput(_bad_call(node.func, source, names, known))
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                raise BadInput(f"{func}() takes exactly one argument")
            called.add(id(node.func))
        elif isinstance(node, ast.Name):
            if id(node) in called:
                continue
            if node.id in known:
                raise BadInput(f"{node.id} is a function: call it, as in {node.id}(x)")
            if node.id not in names:
                raise BadInput(
                    f"unknown name {node.id!r}: bind it on the command line, as in {node.id}=1.5"
                )
        elif isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise BadInput(
                    f"not allowed in an expression: {node.value!r} (the only constants are numbers)"
                )
            node.value = _finite(
                node.value, f"a number in the expression ({_segment(source, node)})"
            )
        elif not isinstance(node, _STRUCTURE):
            raise BadInput(f"not allowed in an expression: {_describe(node, source)}")
    return tree


def _where(text: str, err: Exception) -> str:
    """Where a parse error is, as `` at column N of '...'`` (columns of ``text`` as typed,
    from 1), or `` at the end of '...'`` when the expression stops too soon."""
    source = text.strip()
    lead = len(text) - len(text.lstrip())
    line, offset = getattr(err, "lineno", None), getattr(err, "offset", None)
    if line is None or offset is None:
        if "\x00" not in source:
            return ""
        column = source.index("\x00") + 1
    else:
        column = sum(len(row) + 1 for row in source.split("\n")[: line - 1]) + offset
        if offset == 0 or column > len(source):
            return f" at the end of {_excerpt(text)}"
    column += lead
    if len(text) <= 40:
        return f" at column {column} of {_excerpt(text)}"
    return f" at column {column} (near {text[max(0, column - 16) : column + 8]!r})"


def _segment(source: str, node: ast.AST) -> str:
    """The text of ``node`` as typed, cut short."""
    text = ast.get_source_segment(source, node) or ""
    return text if len(text) <= 40 else text[:37] + "..."


def _excerpt(text: str) -> str:
    """``text`` quoted, cut short."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _finite(number: int | float, what: str) -> float:
    """``number`` as a float; a number a float cannot hold (999 digits, 1e999) is bad input."""
    try:
        value = float(number)
    except OverflowError:  # an int too large for a float; never compute with it either
        value = math.inf
    if math.isinf(value):
        raise BadInput(f"{what} is too large for a float")
    return value


def _bad_call(func: ast.AST, source: str, names: Sequence[str], functions: Sequence[str]) -> str:
    """Why a call is refused: only the op table's functions can be called, by name."""
    known = f"the functions are {', '.join(functions)}"
    if isinstance(func, ast.Name) and func.id in names:
        return f"cannot call {func.id!r}: it is a number bound on the command line; {known}"
    if isinstance(func, ast.Name):
        return f"unknown function {func.id!r}: {known}"
    if isinstance(func, ast.Attribute) and func.attr in functions:
        hint = f"write {func.attr}({_segment(source, func.value)}) instead"
    else:
        hint = known
    return f"not allowed in an expression: calling {_excerpt(_segment(source, func))}: {hint}"


def _describe(node: ast.AST, source: str) -> str:
    """A rejected piece of syntax in plain words, with the text it came from."""
    if type(node) in _OPERATOR_SYMBOLS:  # operators carry no position: name the symbol
        return f"the operator {_OPERATOR_SYMBOLS[type(node)]}"
    what = _PLAIN.get(type(node), "this")
    text = _segment(source, node)
    return f"{what}, in {text!r}" if text else what


def evaluate(tree: ast.Expression, env: dict):
    """Evaluate a tree from ``parse`` with the engine; ``env`` maps names to Values.

    A part without names is folded into a plain number, as Python folds ``x ** (1/2)`` into
    ``x ** 0.5``: so exponents stay numbers and ``(-1) ** 2`` or ``x ** (4/2)`` at x < 0 work.
    The folding still runs the engine's ops (on constant Values), so a domain error there
    raises the op's own error. The result is always a Value.

    >>> from autograd import Value
    >>> evaluate(parse("x ** (4/2) + 1", ["x"]), {"x": Value(-3.0)}).data
    10.0
    """
    from autograd import Value

    def apply(node: ast.AST, args: list):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](args[0])
        if all(isinstance(a, float) for a in args):  # fold: run the op on constant Values
            return apply(node, [Value(args[0]), *args[1:]]).data
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](*args)
        return getattr(args[0], node.func.id)()  # a whitelisted call: a method of Value

    # Post-order with an explicit stack, not recursion: 900 nested minus signs are fine.
    values: dict[int, object] = {}
    stack = [(tree.body, False)]
    while stack:
        node, children_done = stack.pop()
        children = _operands(node)
        if children and not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
        else:
            values[id(node)] = apply(node, [values.pop(id(c)) for c in children])
    result = values[id(tree.body)]
    return result if isinstance(result, Value) else Value(result)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return [node.args[0]]
    return []


def _bindings(pairs: Sequence[str]) -> dict[str, float]:
    """``["x=1", "w=-2"]`` -> ``{"x": 1.0, "w": -2.0}``, in command-line order."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or keyword.iskeyword(name):
            raise BadInput(f"expected name=value, got {pair!r}")
        if name in functions():
            raise BadInput(f"{name} is a function name and cannot be bound")
        if name in values:
            raise BadInput(f"{name} is bound twice")
        try:
            value = float(number)  # "1e400" reads as inf, a 999-digit integer too
        except ValueError:
            raise BadInput(f"the value of {name} is not a number: {number!r}") from None
        literal = number.strip().lower().lstrip("+-")
        if literal.startswith(("inf", "nan")):
            raise BadInput(f"the value of {name} is not a finite number: {_excerpt(number)}")
        values[name] = _finite(value, f"the value of {name} ({_excerpt(number)})")
    return values


def _function(tree: ast.Expression, names: list[str]) -> Callable:
    return lambda *xs: evaluate(tree, dict(zip(names, xs)))


class Overflow(ArithmeticError):
    """A value of the expression too large for a float (exit status 1, as a domain error)."""


def _forward(tree: ast.Expression, env: dict):
    """`evaluate`, where a value that overflows a float is an error at the op, as the
    engine's own ``exp`` and ``**`` raise OverflowError: ``x*2`` at x=1e308 fails like
    ``10**400``, instead of printing inf. The inputs are finite (checked as they are read),
    so the first op whose result is not finite is the one that overflowed; detect_anomaly
    names it and its operands."""
    from autograd import detect_anomaly

    try:
        with detect_anomaly():
            return evaluate(tree, env)
    except FloatingPointError as err:
        raise Overflow(_one_line(err)) from None


def _check_output(path: str) -> None:
    """Refuse a picture path we cannot write, before any work (the demo trains first): a
    wrong suffix, a missing directory, or a place where no file can be made (``/proc/x.svg``),
    all as bad input. The probe opens for appending, so an existing file is left as it was,
    and a file it had to create is removed again."""
    target = Path(path)
    if target.suffix.lower() not in PICTURE_SUFFIXES:
        raise BadInput(f"the output file must end in .svg, .png, .pdf or .dot: {path}")
    if not target.parent.is_dir():
        raise BadInput(f"cannot write {path}: no directory {target.parent}")
    existed = target.exists()
    if existed and not target.is_file():  # a directory, or a pipe that would block
        raise BadInput(f"cannot write {path}: it is not a regular file")
    try:
        with open(target, "ab"):
            pass
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
    if not existed:
        target.unlink(missing_ok=True)


def _render(root, path: str, **options) -> int:
    """Render with viz; a failure is one line on stderr and exit status 1."""
    import viz

    try:
        written = viz.render(root, path, **options)
    except OSError as err:
        print(f"tracegrad: cannot write {path}: {err.strerror or err}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # no Graphviz: the message says how to install it
        print(f"tracegrad: {_one_line(err)}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from autograd import Value, topological_order

    _check_output(args.output)
    values = _bindings(args.bindings)
    tree = parse(args.expr, list(values))
    env = {name: Value(v, label=name) for name, v in values.items()}
    root = _forward(tree, env)
    size = len(topological_order(root))  # before the backward pass and Graphviz's layout
    if size > args.max_nodes:
        raise BadInput(
            f"the graph has {size:,} nodes, more than the limit of {args.max_nodes} (Graphviz "
            f"takes long on big graphs): pass --max-nodes {size} to draw it anyway"
        )
    root.backward()
    print(f"{args.expr.strip()} = {root.data!r}")
    for name, leaf in env.items():
        print(f"d/d{name} = {leaf.grad!r}")
    edge_labels = "contribution" if args.contributions else True
    return _render(root, args.output, edge_labels=edge_labels, max_nodes=args.max_nodes)


def _cmd_check(args: argparse.Namespace) -> int:
    from autograd import Value

    values = _bindings(args.bindings)
    names = list(values)
    tree = parse(args.expr, names)
    env = {name: Value(v, label=name) for name, v in values.items()}
    try:
        root = _forward(tree, env)
    except Overflow as err:  # not the op's derivative rule being wrong: no gradient to check
        print(
            f"tracegrad: the forward pass overflowed a float, so there is no gradient to "
            f"check: {err}",
            file=sys.stderr,
        )
        return 1
    root.backward()
    print(f"{args.expr.strip()} = {root.data!r}")
    if not names:
        print("no inputs to check: PASS")
        return 0
    f = _function(tree, names)
    eps = 1e-6  # gradcheck's default step
    try:
        return _check_table(f, names, values, env, eps)
    except (ValueError, ArithmeticError) as err:  # the point is fine (evaluated above)
        print(
            f"tracegrad: the finite differences step each input by ±{eps:g} and that leaves "
            f"the domain or overflows a float here: {_one_line(err)}",
            file=sys.stderr,
        )
        return 1


def _check_table(f: Callable, names: list, values: dict, env: dict, eps: float) -> int:
    from autograd import GradcheckError, detect_anomaly, gradcheck

    rows = []  # all computed first: a step out of the domain prints no half table
    for k, name in enumerate(names):
        up, down = list(values.values()), list(values.values())
        up[k] += eps
        down[k] -= eps
        with detect_anomaly():  # a step whose value overflows is an error here too
            numeric = (f(*up).data - f(*down).data) / (2 * eps)
        analytic = env[name].grad
        rows.append(
            f"{name:<10} {values[name]:>12.6g} {analytic:>22.15g} {numeric:>22.15g} "
            f"{abs(analytic - numeric):>10.2g}"
        )
    print(f"{'input':<10} {'value':>12} {'analytic':>22} {'numeric':>22} {'abs error':>10}")
    print("\n".join(rows))
    try:
        gradcheck(f, list(values.values()), eps=eps)
    except GradcheckError as err:
        print(f"FAIL\n{err}")
        return 1
    print("PASS")
    return 0


# The XOR demo follows the Keras XOR recipe of the course notes our XOR examples come from: a
# 2-3-1 sigmoid MLP, SGD lr 0.5, binary cross-entropy, batch size 4, 1000 epochs. The notes
# report one Keras run's final loss; over seeds 0-19 the recipe ends between XOR_SPREAD's min
# and max (measured here; tests/test_cli.py measures them again), so a run is one draw from
# that spread, and the demo says so.
XOR_EPOCHS = 1000
XOR_NOTES_LOSS = 0.0626  # the course notes' Keras run
XOR_SEEDS = 20
XOR_SPREAD = {"min": 0.03, "median": 0.09, "max": 0.41}  # the final loss, to 2 decimals
XOR_PICTURE = "xor_graph.svg"  # in the current directory


def xor_recipe(seed: int = 0, epochs: int = XOR_EPOCHS, verbose: int = 0):
    """Train the demo's model with the course notes' Keras XOR recipe; returns
    ``(model, history)``.

    >>> model, history = xor_recipe(seed=0, epochs=2)
    >>> len(history.history["loss"]), model.num_parameters()
    (2, 13)
    """
    import nn

    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    history = nn.fit(
        model,
        X,
        y,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=epochs,
        batch_size=4,
        seed=seed,
        verbose=verbose,
    )
    return model, history


def _notes_comparison(seed: int) -> str:
    """Where the recipe's final loss lies over seeds, said beside the course notes' figure."""
    spread = XOR_SPREAD
    return (
        f"over seeds 0-{XOR_SEEDS - 1} the recipe ends between {spread['min']} and "
        f"{spread['max']} (median {spread['median']}): this run (seed {seed}) is one draw from "
        "that spread, and --seed N gives another"
    )


def xor_demo(epochs: int = XOR_EPOCHS, svg: str | None = XOR_PICTURE, seed: int = 0) -> int:
    """``tracegrad demo xor``: train the 2-3-1 sigmoid MLP on XOR with the Keras XOR recipe of
    the course notes (`xor_recipe`), print the four predictions, the accuracy and the final
    loss (beside the notes' figure when the recipe's 1000 epochs ran), and render the trained
    network's graph for the input (1, 0), with its loss's gradients on every edge, to ``svg``
    (format by suffix; None: no picture). The picture's path is announced and checked before
    training.

    Returns the exit status: 0 when it ran, 1 when the graph could not be rendered, 2 for a
    bad argument.

    >>> xor_demo(epochs=5, svg=None)  # doctest: +ELLIPSIS
    Training a 2-3-1 sigmoid MLP on XOR ...
    0
    """
    import nn
    from autograd import Value

    for name, value, least in (("--epochs", epochs, 1), ("--seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            print(
                f"tracegrad demo xor: {name} must be an integer >= {least}, got {value!r}",
                file=sys.stderr,
            )
            return 2
    if svg is not None:
        try:
            _check_output(svg)
        except BadInput as err:
            print(f"tracegrad demo xor: {err}", file=sys.stderr)
            return 2
    other = f", for {epochs} epochs instead" if epochs != XOR_EPOCHS else ""
    print(
        "Training a 2-3-1 sigmoid MLP on XOR with the course notes' Keras XOR recipe (SGD lr "
        f"0.5, binary cross-entropy, batch size 4, {XOR_EPOCHS} epochs){other}; seed {seed}",
        flush=True,
    )
    if svg is not None:
        print(
            f"the trained model's graph will be drawn to {svg} (--svg PATH to change)", flush=True
        )
    model, history = xor_recipe(seed=seed, epochs=epochs, verbose=1)
    X, y = nn.datasets.xor()
    preds = model.predict(X).ravel()
    for (a, b), target, p in zip(X.astype(int).tolist(), y.tolist(), preds.tolist()):
        print(f"  {a} xor {b} = {target}   predicted {p:.4f} -> {int(p > 0.5)}")
    accuracy = float(((preds > 0.5) == y).mean())
    final_loss = history.history["loss"][-1]
    if epochs == XOR_EPOCHS:  # the recipe as the notes ran it: their figure beside ours
        notes = f" (the course notes' Keras run reports {XOR_NOTES_LOSS} for this recipe)"
        print(f"accuracy {accuracy:.2f}, final loss {final_loss:.4f}{notes}")
        print(_notes_comparison(seed))
    else:
        print(f"accuracy {accuracy:.2f}, final loss {final_loss:.4f}")
    if svg is None:
        return 0
    # One sample's forward and backward through the trained weights, so every node has its
    # gradient and every edge its local derivative.
    x = [Value(1.0, label="x0"), Value(0.0, label="x1")]
    out = model(x)
    out.label = "y_hat"
    loss = nn.losses.bce([out], [1.0])
    loss.label = "loss"
    model.zero_grad()
    loss.backward()
    print("the trained network's graph for input (1, 0), with its gradients:")
    return _render(loss, svg)


def _cmd_demo(args: argparse.Namespace) -> int:
    # Options left out keep xor_demo's own defaults (its epochs, seed and picture path).
    given = {
        k: v
        for k, v in (("epochs", args.epochs), ("svg", args.svg), ("seed", args.seed))
        if v is not None
    }
    return xor_demo(**given)


def _whole_number(least: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``least``."""

    def convert(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {n}")
        return n

    return convert


_NOTES = "(the expression syntax and the exit statuses)"


def _parser() -> argparse.ArgumentParser:
    layout = {"epilog": _NOTES, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = _Parser(
        prog="tracegrad",
        description="Draw, differentiate and gradcheck expressions with tracegrad's engine,\n"
        "or train the XOR demo. Also run as: python -m tracegrad",
        **layout,
    )
    parser.add_argument("--version", action="version", version=f"tracegrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = sub.choices  # name -> its parser, for _Parser._unknown
    graph = sub.add_parser("graph", help="draw an expression's graph with its gradients", **layout)
    graph.add_argument("expr", metavar="EXPR", help='e.g. "tanh(x*w + b)"')
    graph.add_argument("bindings", nargs="*", metavar="name=value")
    graph.add_argument(
        "-o",
        "--output",
        default="graph.svg",
        help="output file, .svg .png .pdf or .dot (default: graph.svg in the current directory)",
    )
    graph.add_argument(
        "--contributions",
        action="store_true",
        help="also show upstream x local = contribution on every edge",
    )
    graph.add_argument(
        "--max-nodes",
        type=_whole_number(1),
        default=MAX_NODES,
        metavar="N",
        help=f"refuse a graph of more than N nodes, at once (default: {MAX_NODES})",
    )
    graph.set_defaults(run=_cmd_graph)
    check = sub.add_parser("check", help="gradcheck an expression at a point", **layout)
    check.add_argument("expr", metavar="EXPR", help='e.g. "log(x) * y"')
    check.add_argument("bindings", nargs="*", metavar="name=value")
    check.set_defaults(run=_cmd_check)
    demo = sub.add_parser(
        "demo",
        help="train a small model and draw its graph",
        description="Train the 2-3-1 sigmoid MLP on XOR with the Keras XOR recipe of the "
        "course notes our XOR examples come from, print its predictions and final loss beside "
        "the notes' Keras run's, and draw its graph.",
    )
    demo.add_argument("name", choices=["xor"])
    demo.add_argument(
        "--epochs",
        type=_whole_number(1),
        metavar="N",
        help=f"training epochs (default: the recipe's {XOR_EPOCHS})",
    )
    demo.add_argument(
        "--seed",
        type=_whole_number(0),
        metavar="N",
        help="initial weights and shuffling (default: 0)",
    )
    demo.add_argument(
        "--svg",
        metavar="PATH",
        help="where to draw the trained model's graph, .svg .png .pdf or .dot "
        f"(default: {XOR_PICTURE} in the current directory)",
    )
    demo.set_defaults(run=_cmd_demo)
    return parser


def _engine_problem() -> str | None:
    """Why the engine cannot run here, in one line, or None. Importing viz checks that
    ``import autograd`` finds tracegrad's engine, not another package of that name."""
    try:
        import viz  # noqa: F401
    except ImportError as err:
        return _one_line(err, limit=1000)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    >>> main(["check", "x * x", "x=3"])   # doctest: +SKIP
    0
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage, help or version
        return exit_.code if isinstance(exit_.code, int) else 2
    problem = _engine_problem()
    if problem is not None:
        print(f"tracegrad: {problem}", file=sys.stderr)
        return 1
    try:
        return args.run(args)
    except BrokenPipeError:  # the output was piped to a reader that stopped (| head)
        # As Python's docs advise: point stdout at devnull so the exit's flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except BadInput as err:
        print(f"tracegrad: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Overflow as err:
        print(f"tracegrad: a value overflows a float: {err}", file=sys.stderr)
        return 1
    except (ValueError, ArithmeticError) as err:  # a domain error raised by an op
        print(f"tracegrad: {_one_line(err)}", file=sys.stderr)
        return 1
