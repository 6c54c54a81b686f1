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

from .frames import Player, animate, backward_frames, step_through
from .graph import draw, render, to_svg

__all__ = ["Player", "animate", "backward_frames", "draw", "render", "step_through", "to_svg"]
