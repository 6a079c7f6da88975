"""Imported first by the scripts here: prefer the checkout they live in over an installed copy of gfdnet_ultra."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "gfdnet_ultra").is_dir():
    sys.path.insert(0, str(ROOT))
