"""Pictures of computation graphs with the chain rule on every edge.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); y = (x * x).tanh(); y.backward()
    >>> dot = viz.draw(y)   # a graphviz.Digraph: displays inline in Jupyter
    >>> viz.render(y, "y.svg")   # doctest: +SKIP
    >>> player = viz.step_through(y)   # doctest: +SKIP
    >>> player.save("backprop.html")   # doctest: +SKIP
    >>> viz.animate(y, "backprop.gif")   # doctest: +SKIP

``render`` writes .svg, .png, .pdf (these need Graphviz's ``dot``) or .dot by suffix;
``step_through`` is a notebook player over ``backward_frames``, one picture per step of the
backward pass.
"""

import autograd

# Another top-level autograd found first (HIPS autograd) would fail with a bare "cannot import
# name": say what happened and the fix in one line. nn carries the same check (neither
# may import the other) and the command uses viz's.
if not getattr(autograd, "__tracegrad__", False):
    where = getattr(autograd, "__file__", None) or ", ".join(getattr(autograd, "__path__", []))
    raise ImportError(
        f"{__name__} needs tracegrad's autograd, but 'import autograd' found another package at "
        f"{where} (HIPS autograd?): use a virtual environment without it, or `pip uninstall "
        "autograd` and then reinstall tracegrad (the uninstall deletes our autograd/__init__.py)"
    )

from .frames import Player, animate, backward_frames, step_through
from .graph import draw, render, to_svg
from .lab import Lab, lab

__all__ = [
    "Lab",
    "Player",
    "animate",
    "backward_frames",
    "draw",
    "lab",
    "render",
    "step_through",
    "to_svg",
]
