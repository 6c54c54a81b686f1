"""``python -m tracegrad``: the same command as the ``tracegrad`` console script."""

import sys

from .cli import main

sys.exit(main())
