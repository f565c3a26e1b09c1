"""The on-disk cache of checked protocols, keyed by the sha256 of the protocol file's bytes.

Reading a protocol means parsing YAML in pure Python, validating it and linting it: about 0.3 s for
the shipped protocol, paid by every process. The result depends only on the file's bytes and on
this kapdecide version, so it is stored once as JSON (never pickle: nothing in the cache is code)
and reused by later processes.

Trust, as ssh trusts ``~/.ssh``: the folder is used only when it is a real folder (not a link) owned
by the current user and not writable by group or others; an entry only when it is a regular file
(opened without following links, non-blocking, so a FIFO or a device cannot hang or flood a run)
with the same owner and permissions, at most ``MAX_ENTRY_BYTES``. Anyone who could write the
entries could otherwise forge one with a recomputed checksum. Then: its first line, a sha256 of the
rest, matches, its key fields match (file sha256, kapdecide version, cache format), and the protocol
in it validates again against the protocol model; anything else is treated as absent and rebuilt.
``validate`` and ``test`` never use the cache: they check the files themselves. A changed protocol file
has a new sha256, so it can never be served an old entry. The cache is an optimisation: when it
cannot be read or written, kapdecide works from the file, as it would without it.

Location: ``$KAPDECIDE_CACHE_DIR``; else ``$XDG_CACHE_HOME/kapdecide``; else ``~/.cache/kapdecide``.
``KAPDECIDE_CACHE_DIR=off`` turns it off. The folder is safe to delete at any time.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapdecide import __version__

#: Bump when the entry layout or anything that shapes it (checks, lint, model dump) changes meaning.
FORMAT = 1
OFF = ("off", "0", "no", "false")
#: An entry is a checked protocol as JSON (the shipped one is ~0.3 MB): anything larger is not one.
MAX_ENTRY_BYTES = 16 << 20


def _unsafe(st: os.stat_result, what: str) -> str | None:
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and st.st_uid != uid:
        return f"{what} is owned by another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{what} is writable by group or others"
    return None


@dataclass(frozen=True)
class ProtocolCache:
    """A folder of cache entries, one JSON file per (protocol sha256, kapdecide version, format)."""

    folder: Path

    def _file(self, sha256: str) -> Path:
        return self.folder / f"protocol-{sha256}-{__version__}-f{FORMAT}.json"

    def untrusted(self) -> str | None:
        """Why the folder must not be used (None: it is safe, or does not exist yet)."""
        try:
            st = os.lstat(self.folder)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot inspect it ({exc.strerror or exc})"
        if not stat.S_ISDIR(st.st_mode):
            return "it is not a folder (a link or a file)"
        return _unsafe(st, "it")

    def _read(self, path: Path) -> str | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or _unsafe(st, "entry") or st.st_size > MAX_ENTRY_BYTES:
                return None
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read(MAX_ENTRY_BYTES + 1)
            return None if len(raw) > MAX_ENTRY_BYTES else raw.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        finally:
            os.close(fd)

    def get(self, sha256: str) -> dict[str, Any] | None:
        """The entry for a protocol file with this sha256, or None when absent, stale, corrupt or not
        trusted (see the module docstring)."""
        if self.untrusted() is not None:
            return None
        text = self._read(self._file(sha256))
        if text is None:
            return None
        checksum, _, payload = text.partition("\n")
        if hashlib.sha256(payload.encode("utf-8")).hexdigest() != checksum:
            return None
        try:
            entry = json.loads(payload)
        except ValueError:
            return None
        if not isinstance(entry, dict):
            return None
        if (entry.get("format"), entry.get("kapdecide"), entry.get("sha256")) != (FORMAT, __version__, sha256):
            return None
        return entry

    def put(self, sha256: str, entry: dict[str, Any]) -> None:
        """Store an entry atomically (a reader never sees half a file); failures are ignored."""
        payload = json.dumps(
            {"format": FORMAT, "kapdecide": __version__, "sha256": sha256, **entry},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        text = hashlib.sha256(payload.encode("utf-8")).hexdigest() + "\n" + payload
        import tempfile  # only on a miss: it costs a tenth of a cold start

        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.untrusted() is not None:
                return  # never write where others could read or swap the entry
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(tmp, self._file(sha256))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # a read-only or full disk only costs speed


def default_cache(environ: dict[str, str] | None = None) -> ProtocolCache | None:
    """The cache the command line uses (see the module docstring), or None when it is turned off."""
    env = os.environ if environ is None else environ
    chosen = env.get("KAPDECIDE_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else ProtocolCache(Path(chosen))
    base = env.get("XDG_CACHE_HOME") or (str(Path.home() / ".cache") if env.get("HOME") or os.name != "posix" else "")
    return ProtocolCache(Path(base) / "kapdecide") if base else None
