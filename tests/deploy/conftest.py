"""The deployment checks' shared kit (deploy_kit.py beside this file) is importable by name."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
