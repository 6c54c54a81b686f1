"""Testing helpers for users of the engine.

``autograd.testing.strategies`` holds hypothesis strategies (random expressions that
``gradcheck`` must pass, domain-safe leaf values); it needs hypothesis, so it is imported on
its own (``from autograd.testing import strategies``), never by ``autograd`` itself.
"""
