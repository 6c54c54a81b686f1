"""tracegrad's engine: a scalar ``Value`` (and a numpy ``Tensor``) that record every op into
a graph, and a reverse pass that walks it applying the chain rule node by node.

Reading order: ``ops.py`` (each op's forward and local derivatives), ``value.py`` (the
node), ``engine.py`` (applying an op, the topological order, the reverse pass).

>>> from autograd import Value
>>> x = Value(2.0, "x"); y = x * x + 3 * x; y.backward(); x.grad
7.0
"""

from .engine import Node, Step, topological_order
from .explain import Explanation, explain
from .functional import grad, hessian, jacobian, jvp, value_and_grad
from .gradcheck import GradcheckError, gradcheck
from .modes import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad
from .primitive import primitive
from .tensor import Tensor
from .trace import Program, TraceError, trace
from .value import Value

# A marker that nn, viz and the tracegrad command look for: another top-level package named
# autograd (HIPS autograd) found first would lack it, and they say so in one line.
__tracegrad__ = True

__all__ = [
    "Value",
    "Tensor",
    "Node",
    "Step",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "name_scope",
    "grad",
    "value_and_grad",
    "hessian",
    "jvp",
    "jacobian",
    "gradcheck",
    "GradcheckError",
    "primitive",
    "topological_order",
    "trace",
    "Program",
    "TraceError",
    "explain",
    "Explanation",
]
