"""Long text on a terminal goes through a pager, as git does; a pipe or a file never does.

The pager is ``KAPDECIDE_PAGER``, else ``PAGER``, else ``less -FRX`` (quit when it fits one screen,
keep colours, leave the text on the screen). An empty value or ``cat`` turns it off, as does
``--no-pager``. A pager that cannot start is not an error: the text is written directly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

DEFAULT_PAGER = "less -FRX"


def pager_command() -> str | None:
    """The pager to use, or None when paging is off."""
    cmd = os.environ.get("KAPDECIDE_PAGER", os.environ.get("PAGER", DEFAULT_PAGER)).strip()
    return None if cmd in ("", "cat") else cmd


def should_page(text: str, enabled: bool) -> bool:
    """Page only text for a terminal that is longer than the terminal."""
    if not enabled or not sys.stdout.isatty() or pager_command() is None:
        return False
    return text.count("\n") >= shutil.get_terminal_size().lines - 1


def page(text: str) -> bool:
    """Show ``text`` through the pager; False when no pager could be started (then nothing was shown)."""
    cmd = pager_command()
    if cmd is None:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    try:
        proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert proc.stdin is not None
    try:
        proc.stdin.write(text.encode("utf-8"))
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit the pager before the end
    proc.wait()
    return proc.returncode != 127  # 127: the shell could not find the pager
