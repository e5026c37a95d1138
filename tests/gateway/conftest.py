"""The gateway's cross-package tests import the command line from this checkout."""

from __future__ import annotations

import sys
from pathlib import Path

# The shared environment's editable steward-cli may point at another checkout; the ask,
# token and trace modules under test are this one's.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "libs" / "steward-cli" / "src"))
