"""tracegrad: the distribution's own package, holding the command line and the version.

The engine, the models and the pictures are the top-level packages ``autograd``, ``nn`` and
``viz``; this package is the ``tracegrad`` command (``tracegrad.cli``, also run as
``python -m tracegrad``) and ``__version__``, read from the installed distribution's
metadata so it can never disagree with what pip installed. Importing it imports nothing else
(no numpy), so ``tracegrad --version`` works from a bare install.

>>> import tracegrad
>>> tracegrad.__version__.count(".") >= 1
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tracegrad")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
