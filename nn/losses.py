"""Loss functions: predictions and targets in, one scalar node out (the mean over samples).

On ``engine="value"`` predictions are a list of Values, one per sample (a list of lists when a
model has several outputs: every output of every sample then counts as one term of the mean,
as PyTorch's ``reduction="mean"``; for `cross_entropy`, one list of logits per sample).
Targets are numbers, sequences or numpy arrays of matching size.

On ``engine="tensor"`` predictions are one Tensor, ``(n,)`` or ``(n, nout)`` (``(n, classes)``
logits for `cross_entropy`), and each loss is a handful of whole-array ops whose value and
gradients equal the value engine's. Every loss picks its engine from the predictions' type.

>>> from autograd import Tensor, Value, name_scope, no_grad
>>> mse([Value(0.5), Value(2.0)], [0.0, 2.0]).data
0.125
>>> mse(Tensor([0.5, 2.0]), [0.0, 2.0]).item()
0.125
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd import Tensor, Value, name_scope, no_grad

# Keras's epsilon: bce clips probabilities to [EPS, 1 - EPS].
EPS = 1e-7
# Every loss builds its nodes in this scope, so a drawing of a model's loss graph shows the
# loss as one box beside the model's layers.
# Every loss runs in this scope, as a decorated function: in a copy of the caller's context
# (Context.run), so an interrupt can never leave it open.
_LOSS_SCOPE = name_scope("loss")


def _tensor_targets(p: Tensor, targets, name: str):
    """Targets as a float array of the predictions' shape (so (n,) never meets (n, 1): that
    would broadcast to (n, n)); targets that are a Tensor (a traced step's input) stay one."""
    if isinstance(targets, Tensor):
        t = targets
    else:
        try:
            t = np.asarray(targets, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: targets must be numbers, {exc}") from None
    if t.size != p.size:
        raise ValueError(f"{name}: {p.size} predictions but {t.size} targets")
    if p.size == 0:
        raise ValueError(f"{name}: no predictions")
    return t.reshape(p.shape)


def _values_of(t) -> np.ndarray:
    """Target values as an array, whether numbers, Values or a Tensor (to check them)."""
    if isinstance(t, Tensor):
        return t.data
    flat = np.ravel(np.asarray(t, dtype=object)).tolist()
    return np.asarray([x.data if isinstance(x, Value) else x for x in flat], dtype=np.float64)


def _check_probabilities(t, name: str) -> None:
    t = _values_of(t)
    bad = t[(t < 0.0) | (t > 1.0)]
    if bad.size:
        raise ValueError(f"{name}: targets must lie in [0, 1], got {float(bad[0])!r}")


def _check_signs(t, name: str) -> None:
    t = _values_of(t)
    bad = t[(t != -1.0) & (t != 1.0)]
    if bad.size:
        raise ValueError(f"{name}: labels must be -1 or +1, got {float(bad[0])!r}")


def _flat_preds(preds, name: str) -> list[Value]:
    """Predictions as one flat list of Values (a lone Value counts as one sample)."""
    if isinstance(preds, Value):
        return [preds]
    if not isinstance(preds, Sequence):
        raise TypeError(f"{name}: predictions must be a list of Values, got {type(preds).__name__}")
    flat = []
    for p in preds:
        if isinstance(p, Value):
            flat.append(p)
        elif isinstance(p, Sequence) and all(isinstance(q, Value) for q in p):
            flat.extend(p)
        else:
            raise TypeError(f"{name}: predictions must be Values, got {type(p).__name__}")
    if not flat:
        raise ValueError(f"{name}: no predictions")
    return flat


def _flat_targets(targets, n: int, name: str) -> list:
    """Targets as a flat list of floats, or of Values (a traced step's inputs) as they are."""
    flat = np.asarray(targets, dtype=object).ravel().tolist()
    if any(isinstance(t, Value) for t in flat):
        if len(flat) != n:
            raise ValueError(f"{name}: {n} predictions but {len(flat)} targets")
        return [t if isinstance(t, Value) else float(t) for t in flat]
    try:
        t = np.asarray(targets, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: targets must be numbers, {exc}") from None
    if t.size != n:
        raise ValueError(f"{name}: {n} predictions but {t.size} targets")
    return t.tolist()


def _mean(terms: list[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    # One sample needs no division: the same value and gradient, one node fewer to draw.
    return total if len(terms) == 1 else total / len(terms)


@_LOSS_SCOPE
def mse(preds, targets) -> Value:
    """Mean squared error, ``mean((p - t) ** 2)``.

    >>> mse([Value(3.0)], [1.0]).data
    4.0
    """
    if isinstance(preds, Tensor):
        return ((preds - _tensor_targets(preds, targets, "mse")) ** 2).mean()
    p = _flat_preds(preds, "mse")
    t = _flat_targets(targets, len(p), "mse")
    return _mean([(pi - ti) ** 2 for pi, ti in zip(p, t)])


@_LOSS_SCOPE
def bce(preds, targets) -> Value:
    """Binary cross-entropy on probabilities: ``mean(-t*log(p) - (1-t)*log(1-p))``.

    ``p`` is clipped to ``[1e-7, 1 - 1e-7]`` as Keras does, so a saturated sigmoid gives a
    finite loss; a clipped prediction gets no gradient (as with ``tf.clip_by_value``).
    Targets must lie in [0, 1].

    >>> round(bce([Value(0.5)], [1.0]).data, 6)
    0.693147
    """
    if isinstance(preds, Tensor):
        t = _tensor_targets(preds, targets, "bce")
        _check_probabilities(t, "bce")
        q = preds.clip(EPS, 1.0 - EPS)  # clip's gradient is 0 where it clipped, as above
        return -(t * q.log() + (1.0 - t) * (1.0 - q).log()).mean()
    p = _flat_preds(preds, "bce")
    t = _flat_targets(targets, len(p), "bce")
    _check_probabilities(t, "bce")
    terms = []
    for pi, ti in zip(p, t):
        # Compared as Values, so that a traced program checks the clip at every replay.
        if pi < EPS or pi > 1.0 - EPS:
            # A clipped prediction becomes a constant: that cuts its gradient as a clip does.
            pi = Value(min(max(pi.data, EPS), 1.0 - EPS))
        # Terms with a zero weight are left out: same value and gradient, smaller graph
        # (a target that is a Value, a traced step's input, takes the whole formula).
        if ti.__class__ is float and ti == 1.0:
            terms.append(-pi.log())
        elif ti.__class__ is float and ti == 0.0:
            terms.append(-(1.0 - pi).log())
        else:
            terms.append(-(ti * pi.log() + (1.0 - ti) * (1.0 - pi).log()))
    return _mean(terms)


@_LOSS_SCOPE
def bce_with_logits(preds, targets) -> Value:
    """Binary cross-entropy on logits, stable for any logit size.

    Per sample ``max(z, 0) - z*t + log(1 + exp(-|z|))``, written per sign of ``z`` so that
    the gradient at ``z = 0`` is the true ``sigmoid(0) - t``. Targets must lie in [0, 1].

    >>> round(bce_with_logits([Value(0.0)], [1.0]).data, 6)
    0.693147
    >>> bce_with_logits([Value(1000.0)], [0.0]).data
    1000.0
    """
    if isinstance(preds, Tensor):
        t = _tensor_targets(preds, targets, "bce_with_logits")
        _check_probabilities(t, "bce_with_logits")
        # softplus(z) - z*t is the same formula; softplus is stable and its gradient sigmoid.
        return (preds.softplus() - preds * t).mean()
    z = _flat_preds(preds, "bce_with_logits")
    t = _flat_targets(targets, len(z), "bce_with_logits")
    _check_probabilities(t, "bce_with_logits")
    terms = []
    for zi, ti in zip(z, t):
        if zi >= 0:  # compared as a Value: a traced program checks the sign at each replay
            terms.append(zi * (1.0 - ti) + (1.0 + (-zi).exp()).log())
        else:
            terms.append(-(zi * ti) + (1.0 + zi.exp()).log())
    return _mean(terms)


@_LOSS_SCOPE
def hinge(preds, targets) -> Value:
    """Hinge (SVM) loss with labels -1 and +1: ``mean(relu(1 - t*p))``.

    >>> hinge([Value(0.5), Value(-2.0)], [1, -1]).data
    0.25
    """
    if isinstance(preds, Tensor):
        t = _tensor_targets(preds, targets, "hinge")
        _check_signs(t, "hinge")
        return (1.0 - t * preds).relu().mean()
    p = _flat_preds(preds, "hinge")
    t = _flat_targets(targets, len(p), "hinge")
    _check_signs(t, "hinge")
    return _mean([(1.0 - ti * pi).relu() for pi, ti in zip(p, t)])


@_LOSS_SCOPE
def cross_entropy(logits, labels) -> Value:
    """Softmax cross-entropy from logits and integer class labels (PyTorch's CrossEntropyLoss).

    Per sample ``logsumexp(z) - z[label]``, with the largest logit subtracted (as a constant:
    the result and its gradient do not depend on it) so large logits do not overflow.

    On tensors ``logits`` is ``(n, classes)`` (or ``(classes,)`` for one sample) and the
    loss is ``-log_softmax(logits)[range(n), labels].mean()``.

    >>> round(cross_entropy([[Value(0.0), Value(0.0)]], [1]).data, 6)
    0.693147
    >>> round(cross_entropy(Tensor([[0.0, 0.0]]), [1]).item(), 6)
    0.693147
    """
    if isinstance(logits, Tensor):
        return _tensor_cross_entropy(logits, labels)
    if isinstance(logits, Sequence) and logits and isinstance(logits[0], Value):
        logits = [logits]  # one sample
    if not isinstance(logits, Sequence) or not logits:
        raise TypeError("cross_entropy: logits must be a list of lists of Values")
    rows = [_flat_preds(row, "cross_entropy") for row in logits]
    y = np.asarray(labels).ravel()
    if y.size != len(rows):
        raise ValueError(f"cross_entropy: {len(rows)} samples but {y.size} labels")
    terms = []
    for row, label in zip(rows, y.tolist()):
        if label != int(label) or not 0 <= label < len(row):
            raise ValueError(
                f"cross_entropy: label {label!r} is not a class index in [0, {len(row)})"
            )
        terms.append(_logsumexp(row) - row[int(label)])
    return _mean(terms)


def _logsumexp(row: list[Value]) -> Value:
    """``log(sum(exp(z)))`` of one sample's logits, with the largest logit subtracted first
    and added back (as a + relu(b - a), up to rounding): a shift that changes neither the
    result nor its gradient, computed without recording so that a traced program recomputes
    it at every replay."""
    m = _running_max(row)
    s = (row[0] - m).exp()
    for v in row[1:]:
        s = s + (v - m).exp()
    return s.log() + m


@no_grad()
def _running_max(row: list[Value]) -> Value:
    m = row[0]
    for v in row[1:]:
        m = m + (v - m).relu()
    return m


@_LOSS_SCOPE
def _cross_entropy_onehot(logits: list[list[Value]], onehot: list[list]) -> Value:
    """`cross_entropy` on the value engine with each label given as one-hot weights (Values:
    a traced step's inputs) instead of an index. The logit a label picks is then
    ``sum(t_k * z_k)``, an expression of the inputs rather than a choice made in Python, so
    one traced program serves every batch of labels. With weights exactly 0 and 1 the value
    and the gradients are those of `cross_entropy` (adding 0 * z and 0 is exact)."""
    terms = []
    for row, weights in zip(logits, onehot):
        row = _flat_preds(row, "cross_entropy")  # one output: a lone Value
        picked = weights[0] * row[0]
        for t, z in zip(weights[1:], row[1:]):
            picked = picked + t * z
        terms.append(_logsumexp(row) - picked)
    return _mean(terms)


def _tensor_cross_entropy(z: Tensor, labels) -> Tensor:
    if z.ndim == 1:
        z = z.reshape(1, -1)  # one sample
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"cross_entropy: logits must have shape (n, classes), got {z.shape}")
    n, classes = z.shape
    # A 1-d int array is used as it is: a traced program then takes new labels for it.
    plain = isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu"
    y = labels if plain else np.asarray(labels).ravel()
    if y.size != n:
        raise ValueError(f"cross_entropy: {n} samples but {y.size} labels")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"cross_entropy: labels must be class indices, got {y.dtype}")
    bad = y[(y != np.round(y)) | (y < 0) | (y >= classes)]
    if bad.size:
        raise ValueError(
            f"cross_entropy: label {bad[0].item()!r} is not a class index in [0, {classes})"
        )
    return -z.log_softmax(axis=-1)[np.arange(n), y.astype(np.intp, copy=False)].mean()


# Names accepted by nn.fit / nn.evaluate, Keras's spelling first. Our models output raw scores
# (no softmax layer), so the categorical losses take logits, as Keras's from_logits=True.
LOSSES = {
    "mse": mse,
    "mean_squared_error": mse,
    "binary_crossentropy": bce,
    "bce": bce,
    "binary_crossentropy_from_logits": bce_with_logits,
    "bce_with_logits": bce_with_logits,
    "hinge": hinge,
    "sparse_categorical_crossentropy": cross_entropy,
    "categorical_crossentropy": cross_entropy,  # fit turns one-hot targets into indices
    "cross_entropy": cross_entropy,
}


def get(name_or_fn):
    """The loss function for a name in `LOSSES`, or a callable as is.

    >>> get("binary_crossentropy") is bce
    True
    """
    if callable(name_or_fn):
        return name_or_fn
    if isinstance(name_or_fn, str) and name_or_fn in LOSSES:
        return LOSSES[name_or_fn]
    raise ValueError(f"unknown loss {name_or_fn!r}: expected a callable or one of {sorted(LOSSES)}")
