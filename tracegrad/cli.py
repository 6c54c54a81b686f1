"""The ``tracegrad`` command: draw or gradcheck one expression, or run a demo.

    tracegrad graph "tanh(x*w + b)" x=1 w=-2 b=0.5 -o graph.svg
    tracegrad check "log(x) * y" x=2 y=3
    tracegrad demo xor --epochs 200 --svg xor.svg

Expressions are parsed with ``ast`` against a whitelist and never evaluated by Python:
numbers, names bound on the command line, ``+ - * / **``, unary ``-``/``+``, parentheses and
calls of exp, log, tanh, sigmoid, relu, sqrt, sin, cos, abs with one argument. Exit status:
0 success, 1 a domain error (the op's message) or a failed gradcheck, 2 bad input (a one-line
message on stderr).
"""

from __future__ import annotations

import argparse
import ast
import keyword
import operator
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos", "abs")
# Long enough for any expression typed by hand; short enough that parsing and evaluating
# cannot take long or exhaust memory.
MAX_LENGTH = 1000
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: lambda v: v}
_STRUCTURE = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_BINARY, *_UNARY)


class BadInput(Exception):
    """Input that is not a valid command (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and the usual exit status 2)."""

    def error(self, message: str):
        if "unrecognized arguments" in message:
            message += " (an expression starting with '-' goes after '--')"
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def _one_line(err: BaseException | str, limit: int = 300) -> str:
    """A message on one line, cut short: it may quote the user's (possibly huge) input."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse(text: str, names: Sequence[str]) -> ast.Expression:
    """Parse ``text`` into a whitelisted expression tree over the bound ``names``.

    >>> parse("tanh(x * 2)", ["x"]).body.func.id
    'tanh'
    >>> parse("x.__class__", ["x"])
    Traceback (most recent call last):
    cli.BadInput: not allowed in an expression: attribute access
    """
    if len(text) > MAX_LENGTH:
        raise BadInput(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})")
    try:
        with warnings.catch_warnings():  # "1if x" warns on stderr before failing: one line only
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise BadInput(f"cannot parse the expression: {err.msg}") from None
    except ValueError as err:  # e.g. a null byte, on Pythons that do not call it syntax
        raise BadInput(f"cannot parse the expression: {err}") from None
    except (RecursionError, MemoryError):
        raise BadInput("cannot parse the expression: it is nested too deeply") from None
    called = set()  # the Name nodes that are the function of a call, not a variable
    for node in ast.walk(tree):  # ast.walk is iterative: no recursion on deep trees
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            if func not in FUNCTIONS:
                raise BadInput(
                    f"not allowed in an expression: a call of {_describe(node.func)}"
                    f" (functions: {', '.join(FUNCTIONS)})"
                )
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                raise BadInput(f"{func}() takes exactly one argument")
            called.add(id(node.func))
        elif isinstance(node, ast.Name):
            if id(node) in called:
                continue
            if node.id in FUNCTIONS:
                raise BadInput(f"{node.id} is a function: call it, as in {node.id}(x)")
            if node.id not in names:
                raise BadInput(
                    f"unknown name {node.id!r}: bind it on the command line, as in {node.id}=1.5"
                )
        elif isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise BadInput(f"not allowed in an expression: the constant {node.value!r}")
            try:
                node.value = float(node.value)  # never compute with Python's unbounded ints
            except OverflowError:
                raise BadInput("a number in the expression is too large for a float") from None
        elif not isinstance(node, _STRUCTURE):
            raise BadInput(f"not allowed in an expression: {_describe(node)}")
    return tree


def _describe(node: ast.AST) -> str:
    """A short name for a rejected piece of syntax."""
    if isinstance(node, ast.Attribute):
        return "attribute access"
    if isinstance(node, ast.Name):
        return repr(node.id)
    if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
        return f"the operator {type(node).__name__}"
    return f"{type(node).__name__} syntax"


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
        if name in FUNCTIONS:
            raise BadInput(f"{name} is a function name and cannot be bound")
        if name in values:
            raise BadInput(f"{name} is bound twice")
        try:
            values[name] = float(number)
        except ValueError:
            raise BadInput(f"the value of {name} is not a number: {number!r}") from None
    return values


def _function(tree: ast.Expression, names: list[str]) -> Callable:
    return lambda *xs: evaluate(tree, dict(zip(names, xs)))


def _check_output(path: str) -> None:
    """A picture path we can write, checked before any work (the demo trains first)."""
    if Path(path).suffix.lower() not in (".svg", ".png", ".pdf", ".dot"):
        raise BadInput(f"the output file must end in .svg, .png, .pdf or .dot: {path}")
    folder = Path(path).parent
    if not folder.is_dir():
        raise BadInput(f"cannot write {path}: no directory {folder}")


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
    from autograd import Value

    _check_output(args.output)
    values = _bindings(args.bindings)
    tree = parse(args.expr, list(values))
    env = {name: Value(v, label=name) for name, v in values.items()}
    root = evaluate(tree, env)
    root.backward()
    print(f"{args.expr.strip()} = {root.data!r}")
    for name, leaf in env.items():
        print(f"d/d{name} = {leaf.grad!r}")
    edge_labels = "contribution" if args.contributions else True
    return _render(root, args.output, edge_labels=edge_labels, max_nodes=10_000)


def _cmd_check(args: argparse.Namespace) -> int:
    from autograd import Value

    values = _bindings(args.bindings)
    names = list(values)
    tree = parse(args.expr, names)
    env = {name: Value(v, label=name) for name, v in values.items()}
    root = evaluate(tree, env)
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
            f"the domain here: {_one_line(err)}",
            file=sys.stderr,
        )
        return 1


def _check_table(f: Callable, names: list, values: dict, env: dict, eps: float) -> int:
    from autograd import GradcheckError, gradcheck

    rows = []  # all computed first: a step out of the domain prints no half table
    for k, name in enumerate(names):
        up, down = list(values.values()), list(values.values())
        up[k] += eps
        down[k] -= eps
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


def xor_demo(epochs: int = 1000, svg: str | None = "xor_graph.svg", seed: int = 0) -> int:
    """``tracegrad demo xor``: train 2-3-1 sigmoid on XOR with Keras's recipe (SGD lr 0.5,
    binary cross-entropy, batch 4), print the four predictions and the accuracy, and render
    the trained network's graph for the input (1, 0) with its loss's gradients on every edge
    to ``svg`` (format by suffix; None: no picture). The path is checked before training.

    Returns the exit status: 0 when it ran, 1 when the graph could not be rendered, 2 for a
    bad argument.

    >>> xor_demo(epochs=5, svg=None)  # doctest: +ELLIPSIS
    Training a 2-3-1 sigmoid MLP on XOR ...
    0
    """
    import nn
    from autograd import Value

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        print(
            f"tracegrad demo xor: --epochs must be a positive integer, got {epochs!r}",
            file=sys.stderr,
        )
        return 2
    if svg is not None:
        try:
            _check_output(svg)
        except BadInput as err:
            print(f"tracegrad demo xor: {err}", file=sys.stderr)
            return 2
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    print(
        "Training a 2-3-1 sigmoid MLP on XOR (Keras's recipe: SGD lr 0.5, binary "
        f"cross-entropy, batch size 4, {epochs} epochs)",
        flush=True,
    )
    history = nn.fit(
        model,
        X,
        y,
        loss="binary_crossentropy",
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        epochs=epochs,
        batch_size=4,
        seed=seed,
        verbose=1,
    )
    preds = model.predict(X).ravel()
    for (a, b), target, p in zip(X.astype(int).tolist(), y.tolist(), preds.tolist()):
        print(f"  {a} xor {b} = {target}   predicted {p:.4f} -> {int(p > 0.5)}")
    accuracy = float(((preds > 0.5) == y).mean())
    print(f"accuracy {accuracy:.2f}, final loss {history.history['loss'][-1]:.4f}")
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
    # Options left out keep xor_demo's own defaults (its epochs and picture path).
    given = {k: v for k, v in (("epochs", args.epochs), ("svg", args.svg)) if v is not None}
    return xor_demo(**given)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tracegrad",
        description="Draw, differentiate and gradcheck expressions with tracegrad.",
        epilog="An expression starting with '-' goes after '--', options before it: "
        "tracegrad graph -o g.svg -- '-x*2' x=1",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    graph = sub.add_parser("graph", help="draw an expression's graph with its gradients")
    graph.add_argument("expr", metavar="EXPR", help='e.g. "tanh(x*w + b)"')
    graph.add_argument("bindings", nargs="*", metavar="name=value")
    graph.add_argument(
        "-o",
        "--output",
        default="graph.svg",
        help="output file, .svg .png .pdf or .dot (default: graph.svg)",
    )
    graph.add_argument(
        "--contributions",
        action="store_true",
        help="also show upstream x local = contribution on every edge",
    )
    graph.set_defaults(run=_cmd_graph)
    check = sub.add_parser("check", help="gradcheck an expression at a point")
    check.add_argument("expr", metavar="EXPR", help='e.g. "log(x) * y"')
    check.add_argument("bindings", nargs="*", metavar="name=value")
    check.set_defaults(run=_cmd_check)
    demo = sub.add_parser("demo", help="train a small model and draw its graph")
    demo.add_argument("name", choices=["xor"])
    demo.add_argument("--epochs", type=_positive_int, help="training epochs (default: the demo's)")
    demo.add_argument("--svg", metavar="PATH", help="where to draw the trained model's graph")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    >>> main(["check", "x * x", "x=3"])   # doctest: +SKIP
    0
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage message
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.run(args)
    except BrokenPipeError:  # the output was piped to a reader that stopped (| head)
        # As Python's docs advise: point stdout at devnull so the exit's flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except BadInput as err:
        print(f"tracegrad: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (ValueError, ArithmeticError) as err:  # a domain error raised by an op
        print(f"tracegrad: {_one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
