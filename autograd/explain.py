"""``explain(root, wrt)``: a gradient as the sum over paths of products of local gradients.

The chain rule's multivariate form: d root / d wrt is the sum, over every path from ``wrt``
to ``root`` in the graph, of the product of the local derivatives on the path's edges. The
reverse pass computes the same number by adding at every node instead of listing paths (so
it is linear where the paths can be exponentially many); ``explain`` lists them, which is the
lesson. An operand used twice (``a * a``) is two edges, so two paths.

Paths are counted first, without listing them, by one pass over the topological order
(each node's count is the sum of its parents' counts, one per edge), so a graph with too many
paths is refused at once with the count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Node, _fmt, _Names, topological_order

__all__ = ["Explanation", "explain"]


def _text(x: Any) -> str:
    """The engine's number format, with -0.0 (a product through a zero local derivative)
    written as 0.0: the sign of a zero says nothing to a reader."""
    text = _fmt(x)
    return "0.0" if text == "-0.0" else text


class Explanation:
    """The paths from ``wrt`` to ``root`` and their products; ``total`` is their sum.

    ``paths`` is a list of ``(nodes, locals, product)``: ``nodes`` from ``wrt`` to ``root``,
    ``locals[k]`` = d nodes[k+1] / d nodes[k] (the local gradient stored on that edge) and
    ``product`` their product, the path's contribution to the gradient.
    """

    def __init__(self, root: Node, wrt: Node, paths: list, total: Any, names: _Names) -> None:
        self.root = root
        self.wrt = wrt
        self.paths = paths
        self.total = total
        self._names = names

    def __len__(self) -> int:
        return len(self.paths)

    def __str__(self) -> str:
        names = self._names

        def name(node: Node) -> str:
            try:
                return names(node)
            except KeyError:  # wrt outside root's graph
                return node.label or "wrt"

        top, me = name(self.root), name(self.wrt)
        count = len(self.paths)
        lines = [
            f"d{top}/d{me} = {_text(self.total)}: the sum over {count} path"
            f"{'' if count == 1 else 's'} of the product of the local derivatives on each"
        ]
        for nodes, locals_, product in self.paths:
            route = " -> ".join(name(n) for n in nodes)
            if not locals_:
                lines.append(f"  {route} (the root itself) = 1.0")
                continue
            factors = " * ".join(f"∂{name(b)}/∂{name(a)}" for a, b in zip(nodes, nodes[1:]))
            numbers = " * ".join(_text(local) for local in locals_)
            result = "" if len(locals_) == 1 else f" = {_text(product)}"
            lines.append(f"  {route}: {factors} = {numbers}{result}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Explanation(total={_text(self.total)}, paths={len(self.paths)})"


def _count_paths(order: list, wrt: Node) -> dict[Node, int]:
    """For each node, how many paths lead from ``wrt`` to it (one per edge used)."""
    counts: dict[Node, int] = {}
    for node in order:
        if node is wrt:
            counts[node] = 1
            continue
        total = 0
        for parent in node.parents:
            total += counts.get(parent, 0)
        if total:
            counts[node] = total
    return counts


def explain(root: Node, wrt: Node, max_paths: int = 1000) -> Explanation:
    """d root / d wrt as the sum, over every path from ``wrt`` to ``root``, of the product of
    the local gradients along it. Needs no backward pass (no ``.grad`` is touched).

    A graph with more than ``max_paths`` paths raises ``ValueError`` with their number, found
    without listing them. ``.total`` is 0.0 when ``wrt`` does not reach ``root``.

    >>> from autograd import Value
    >>> a = Value(3.0, "a"); b = Value(2.0, "b")
    >>> c = a * b; c.label = "c"; L = c + a; L.label = "L"
    >>> e = explain(L, a)
    >>> e.total, len(e.paths)
    (3.0, 2)
    >>> print(e)
    dL/da = 3.0: the sum over 2 paths of the product of the local derivatives on each
      a -> c -> L: ∂c/∂a * ∂L/∂c = 2.0 * 1.0 = 2.0
      a -> L: ∂L/∂a = 1.0
    """
    for what, node in (("root", root), ("wrt", wrt)):
        if not isinstance(node, Node):
            raise TypeError(f"explain: {what} must be a Value or Tensor, got {type(node).__name__}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        raise ValueError(f"explain: max_paths must be a positive int, got {max_paths!r}")
    order = topological_order(root)
    counts = _count_paths(order, wrt)
    count = counts.get(root, 0)
    if count > max_paths:
        raise ValueError(
            f"explain: there are {count:,} paths from wrt to root, more than "
            f"max_paths={max_paths}; pass max_paths={count} to list them all"
            + (" (too many to list in any reasonable time)" if count > 10**7 else "")
        )
    # The edges that lie on some path, as children lists: node -> [(child, local), ...].
    onward: dict[Node, list] = {}
    for node in order:
        if node not in counts:
            continue
        for parent, local in zip(node.parents, node.local_grads):
            if parent in counts:
                onward.setdefault(parent, []).append((node, local))
    paths = []
    if count:
        # Depth-first from wrt, iteratively; every branch ends at root (all nodes reach it).
        stack = [(wrt, 0)]
        nodes, locals_ = [wrt], []
        while stack:
            node, k = stack.pop()
            if node is root and k == 0:
                paths.append((list(nodes), list(locals_), _product(root, locals_)))
            children = onward.get(node, ())
            if k < len(children):
                stack.append((node, k + 1))
                child, local = children[k]
                nodes.append(child)
                locals_.append(local)
                stack.append((child, 0))
            else:
                nodes.pop()
                if locals_:
                    locals_.pop()
    if paths:
        total = paths[0][2]
        for _, _, product in paths[1:]:
            total = total + product
    else:
        total = 0.0 if not isinstance(wrt.data, np.ndarray) else np.zeros_like(wrt.data)
    return Explanation(root, wrt, paths, total, _Names(root, order))


def _product(root: Node, locals_: list) -> Any:
    """The path's contribution, multiplied from the root end as the reverse pass does
    (``upstream * local``, so a Tensor's local gradient may be a linear map)."""
    g: Any = 1.0 if not isinstance(root.data, np.ndarray) else np.ones_like(root.data)
    for local in reversed(locals_):
        g = g * local
    return g
