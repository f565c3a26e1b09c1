"""A loaded protocol: the checked protocol with where it came from and the sha256 of its bytes.

Its own module, below the loader and the checks, so that checks and lint can name it and the
loader can call them without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kapdecide.inputs.yaml_source import SourceMap
    from kapdecide.protocol.model import Protocol

#: Where an id is defined, for the cross-file duplicate check: (what, id, line, col, field path).
IdSite = tuple[str, str, int | None, int | None, str]


@dataclass(frozen=True, eq=False)
class LoadedProtocol:
    """A protocol with where it came from and the sha256 of its bytes.

    A protocol served from the cache carries its validated data and becomes a ``Protocol`` model
    on first use, so a caller that only needs the checks' result never builds the models.
    """

    path: str
    sha256: str
    ids: tuple[IdSite, ...]
    source: SourceMap | None = None
    built: Protocol | None = None
    data: dict[str, Any] | None = None

    @property
    def protocol(self) -> Protocol:
        """The protocol model (built from cached data on first use)."""
        if self.built is None:
            from kapdecide.protocol.model import Protocol

            object.__setattr__(self, "built", Protocol.model_validate(self.data))
        assert self.built is not None
        return self.built

    def ref_data(self) -> dict[str, str]:
        """Id, version, title and sha256, as reports and receipts carry them."""
        p = self.protocol
        return {"id": p.id, "version": p.version, "title": p.title, "sha256": self.sha256}

    def smap(self) -> SourceMap:
        """Positions in the protocol file (empty for a protocol served from the cache)."""
        if self.source is None:
            from kapdecide.inputs.yaml_source import SourceMap

            object.__setattr__(self, "source", SourceMap(self.path))
        assert self.source is not None
        return self.source
