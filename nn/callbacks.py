"""Callbacks for `nn.fit`: a small protocol and a TensorBoard writer.

`fit` calls, on every callback that has them (subclassing `Callback` is optional):
``set_model(model)`` and ``set_data(X, y)`` once before training, then
``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``, ``on_batch_end(batch, logs)``
(logs: the batch's ``"loss"``), ``on_epoch_end(epoch, logs)`` (logs: the epoch's loss and
metrics) and ``on_train_end(logs)``. Epochs and batches count from 0.

>>> class Print(Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(epoch, sorted(logs))
"""

from __future__ import annotations

import numpy as np

from autograd import no_grad

from .module import _slot_data, _slot_grad


class Callback:
    """Base class with no-op hooks; ``self.model`` is the model being trained."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        """The training inputs and targets, for callbacks that look at the data."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


def _group(name: str) -> str:
    # "layers.0.weight" -> "weights/layers.0"; other names keep their own tag.
    for suffix, group in ((".weight", "weights"), (".bias", "biases")):
        if name.endswith(suffix):
            return f"{group}/{name[: -len(suffix)]}"
    if name in ("weight", "bias"):
        return f"{name}s/{name}"
    return f"parameters/{name}"


class TensorBoard(Callback):
    """Write TensorBoard event files to ``log_dir`` (needs tensorboardX, the extra).

    Per epoch: a scalar for the loss and for each metric (tags ``loss``, ``accuracy``, ...),
    and with ``histograms=True`` histograms of the weights and biases
    (``weights/layers.0``, ``biases/layers.0``), of their gradients from the epoch's last
    batch (``gradients/layers.0.weight``) and of each layer's outputs on the first 256
    training rows (``activations/layers.0``). View with ``tensorboard --logdir <log_dir>``.

    >>> cb = TensorBoard("runs/xor")  # doctest: +SKIP
    >>> nn.fit(model, X, y, ..., callbacks=[cb])  # doctest: +SKIP
    """

    def __init__(self, log_dir: str = "runs", histograms: bool = True) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(
                "nn.callbacks.TensorBoard needs tensorboardX, from the 'tensorboard' extra: "
                "pip install tracegrad[tensorboard]"
            ) from None
        self._writer_cls = SummaryWriter
        self.log_dir = str(log_dir)
        self.histograms = bool(histograms)
        self.writer = None
        self._X = None

    def set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        self._X = np.asarray(X, dtype=np.float64)[:256]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.writer = self._writer_cls(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.writer.add_scalar(key, value, epoch)
        if self.histograms and self.model is not None:
            self._write_histograms(epoch)
        self.writer.flush()

    def _write_histograms(self, epoch: int) -> None:
        for name, (shape, params) in self.model._slots().items():
            self.writer.add_histogram(_group(name), _slot_data(shape, params), epoch)
            grad = _slot_grad(shape, params)
            if grad is not None:  # a Tensor no backward pass reached has no gradient yet
                self.writer.add_histogram(f"gradients/{name}", grad, epoch)
        layers = getattr(self.model, "layers", None)
        if self._X is None or layers is None:
            return
        outs = _activations(layers, self._X, getattr(self.model, "engine", "value"))
        for i, values in enumerate(outs):
            self.writer.add_histogram(f"activations/layers.{i}", np.array(values), epoch)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@no_grad()
def _activations(layers: list, X: np.ndarray, engine: str) -> list:
    """Each layer's outputs on the rows of ``X``, flattened, no graph kept."""
    outs: list = [[] for _ in layers]
    if engine == "tensor":
        x = X  # the whole batch at once
        for i, layer in enumerate(layers):
            x = layer.forward(x)
            outs[i] = x.data.ravel()
        return outs
    for row in X.tolist():
        x = row
        for i, layer in enumerate(layers):
            x = layer.forward(x)
            outs[i].extend(v.data for v in x)
    return outs
