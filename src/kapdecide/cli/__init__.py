"""The command line: arguments and I/O only. Each command calls one core function and a renderer.

One module per command (``assess``, ``explain``, ``validate``, ``test``, ``diff``, ``replay``, ``serve``,
``screen``, ``import_fhir``, ``schema``, ``vocab``), what they share in ``common``, and ``main``: the entry
point, where every outcome is mapped to one exit code.
"""

from __future__ import annotations

from . import (  # noqa: F401 (they register)
    assess,
    diff,
    explain,
    import_fhir,
    plugins,
    protocol_info,
    replay,
    schema,
    screen,
    serve,
    test,
    validate,
    vocab,
)
from .group import cli
from .main import main

__all__ = ["cli", "main"]
