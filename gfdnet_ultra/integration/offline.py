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
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

__all__ = ("install",)

_PATCH_FLAG = "_gfdnet_local_only"


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

    setattr(attempt_download_asset, _PATCH_FLAG, True)
    return attempt_download_asset


def install() -> None:
    """Settle the HEIF plugin and make checkpoint look-ups local (idempotent)."""
    from ultralytics.utils import downloads, patches

    if not getattr(downloads.attempt_download_asset, _PATCH_FLAG, False):  # tasks imports it at call time
        downloads.attempt_download_asset = _local_only(downloads.attempt_download_asset)

    if importlib.util.find_spec("pi_heif") is not None:
        from pi_heif import register_heif_opener

        register_heif_opener()
    patches._pil_plugins_registered = True
