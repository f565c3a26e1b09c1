"""No third-party pydantic plugins in the command: set before any model is built.

Plugins hook every validation (they could see patient data or change behaviour); kapdecide's results
must not depend on what else is installed. ``PYDANTIC_DISABLE_PLUGINS`` turns them off, but pydantic
still imports its plugin loader, and with it ``importlib.metadata`` (~20 ms of every start), before
it reads the variable. When plugins are off, the loader is replaced by one that finds none, so the
import never happens. The library (``import kapdecide``) leaves pydantic alone; only the CLI does this.
"""

from __future__ import annotations

import os
import sys
import types

_LOADER = "pydantic.plugin._loader"
_OFF = ("__all__", "1", "true")


def no_pydantic_plugins() -> None:
    """Disable pydantic plugins for this process (unless the user's environment names some to keep)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"].lower() not in _OFF or _LOADER in sys.modules:
        return  # the user chose plugins to disable one by one, or pydantic already loaded them
    stub = types.ModuleType(_LOADER, "kapdecide: pydantic plugins are disabled (PYDANTIC_DISABLE_PLUGINS)")
    stub.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[_LOADER] = stub


no_pydantic_plugins()  # on import: ``kapdecide.cli`` imports this module before any command builds a model
