"""No surprise network use at run time (Ultralytics 8.4.x): no lazy pip install, no GitHub look-up for a mistyped path.

HEIF plugin. `ultralytics.utils.patches.image_open` wraps `PIL.Image.open`; the first file Pillow cannot identify (a
zero-byte or truncated image, a text file named `.png`) makes it call `check_requirements("pi-heif")`, which
pip-installs `pi-heif` when online and auto-install is on, and otherwise says only "No module named 'pi_heif'". We
decide once, at registration: with `pi-heif` installed its opener is registered now (HEIC/HEIF images work), without
it the lazy install is switched off, so an unreadable file fails with Pillow's "cannot identify image file '<path>'".

Checkpoint paths. `tasks.torch_safe_load` passes every checkpoint name to `attempt_download_asset`, which, for a file
that does not exist and is not an official asset, asks the GitHub API for the release list of `ultralytics/assets`
(even with YOLO_OFFLINE=1) before failing. We fail at once, naming the path; URLs and official asset names
(`yolo11n.pt`), which the user asked to download, still go to Ultralytics.

Fonts. `check_font("Arial.ttf")` runs on every dataset check and plot; when the font is neither in the Ultralytics
config folder nor known to matplotlib it sends a HEAD request to GitHub (even with YOLO_OFFLINE=1) and downloads it.
We look locally only; without it, plots use Pillow's default font (Ultralytics' own fallback).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

__all__ = ("install",)

def _local_only(original):
    """`attempt_download_asset` that refuses, without network, a local path that does not exist."""
    from ultralytics.utils import SETTINGS
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    @functools.wraps(original)
    def attempt_download_asset(file, *args, **kwargs):
        path = Path(str(file).strip())
        wanted = str(file).lower().startswith(("http:/", "https:/")) or path.name in GITHUB_ASSETS_NAMES
        if not (wanted or path.exists() or (Path(SETTINGS["weights_dir"]) / path).exists()):
            raise FileNotFoundError(f"Checkpoint '{file}' not found; pass the path of an existing .pt file")
        return original(file, *args, **kwargs)

    return attempt_download_asset


def _font_is_local(font: str) -> bool:
    from matplotlib import font_manager
    from ultralytics.utils import USER_CONFIG_DIR

    known = (f.fname for f in font_manager.fontManager.ttflist if font in f.fname)
    return Path(font).exists() or (USER_CONFIG_DIR / Path(font).name).exists() or any(map(os.path.exists, known))


def _local_font(original):
    """`check_font` that returns None instead of downloading a font that is not on this machine."""

    @functools.wraps(original)
    def check_font(font="Arial.ttf"):
        return original(font) if _font_is_local(font) else None

    return check_font


def install() -> None:
    """Settle the HEIF plugin and make checkpoint and font look-ups local (idempotent)."""
    import ultralytics.data.utils as data_utils
    import ultralytics.utils.plotting as plotting
    from ultralytics.utils import checks, downloads
    from ultralytics.utils import patches as host_patches

    from . import patches

    for module in (checks, data_utils, plotting):  # the two users imported it by name
        patches.replace(module, "check_font", _local_font)
    patches.replace(downloads, "attempt_download_asset", _local_only)  # tasks imports it at call time

    if importlib.util.find_spec("pi_heif") is not None:
        from pi_heif import register_heif_opener

        register_heif_opener()
    patches.replace(host_patches, "_pil_plugins_registered", lambda _: True)
