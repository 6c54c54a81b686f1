"""Pictures of computation graphs with the chain rule on every edge.

>>> import viz
>>> from autograd import Value
>>> x = Value(2.0, label="x"); y = (x * x).tanh(); y.backward()
>>> dot = viz.draw(y)                 # graphviz.Digraph, displays inline in Jupyter
>>> viz.render(y, "y.dot")            # doctest: +SKIP   (.svg/.png/.pdf need Graphviz)
>>> player = viz.step_through(y)      # doctest: +SKIP   (a notebook player of backward)
"""

from .frames import Player, backward_frames, step_through
from .graph import draw, render, to_svg

__all__ = ["Player", "backward_frames", "draw", "render", "step_through", "to_svg"]
