"""Session-wide test settings."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# The command line caches checked protocols on disk; the subprocess tests must never write into the
# user's own cache, and they start from an empty one (tests of the cache itself use their own folder).
os.environ["KAPDECIDE_CACHE_DIR"] = tempfile.mkdtemp(prefix="kapdecide-test-cache-")
atexit.register(shutil.rmtree, os.environ["KAPDECIDE_CACHE_DIR"], True)
