"""Crash-safe output folders: write into a sibling temporary folder, then move it into place.

Every writer in `gfdnet_ultra.data` (synthetic generator, converters, split, classification view) builds its whole
output inside `staged_dir(...)`, so an error or Ctrl-C leaves either the old folder or nothing, never a half-written
dataset. `link_or_copy` places a file by hard link, relative symlink or copy, in that order of preference.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ("link_or_copy", "publish_dir", "staged_dir")


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def publish_dir(tmp: Path, final: Path, *, overwrite: bool = False) -> Path:
    """Move the finished folder `tmp` to `final` (same file system), replacing `final` only when `overwrite`.

    Raises:
        FileExistsError: `final` exists, is not an empty folder, and `overwrite` is False (also when another
            process published first); `tmp` is removed in that case.
    """
    tmp, final = Path(tmp), Path(final)
    trash = None
    try:
        if final.exists() or final.is_symlink():
            if _is_empty_dir(final):
                final.rmdir()
            elif overwrite:
                trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
                os.replace(final, trash / final.name)
            else:
                raise FileExistsError(f"{final} already exists and is not empty; pass overwrite=True (--overwrite) to replace it")
        try:
            os.rename(tmp, final)
        except OSError as e:  # another writer won the race between our check and the rename
            raise FileExistsError(f"{final} appeared while it was being written: {e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    return final


@contextmanager
def staged_dir(final: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `final`; on success it becomes `final`, on error it is deleted.

    Args:
        final (str | Path): Folder to create. Its parent is created if missing.
        overwrite (bool): Replace an existing non-empty `final`. Checked before any work and again at the end.

    Examples:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "ds"
        >>> with staged_dir(out) as tmp:
        ...     _ = (tmp / "a.txt").write_text("x")
        >>> sorted(p.name for p in out.iterdir())
        ['a.txt']
    """
    final = Path(final).expanduser().absolute()
    if final.exists() and not _is_empty_dir(final) and not overwrite:
        raise FileExistsError(f"{final} already exists and is not empty; pass overwrite=True (--overwrite) to replace it")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_dir(tmp, final, overwrite=overwrite)


def link_or_copy(src: str | Path, dst: str | Path, *, copy: bool = False) -> str:
    """Place `src` at `dst` as a hard link, else a relative symlink, else a copy (always with `copy`, for a folder
    that outlives its source); return which ("link", "symlink", "copy")."""
    src, dst = Path(src), Path(dst)
    if dst.exists() or dst.is_symlink():
        raise FileExistsError(f"{dst} already exists (two sources with the same file name?); not replacing it with {src}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if copy:
        shutil.copy2(src, dst)
        return "copy"
    try:
        os.link(src, dst)
        return "link"
    except OSError:
        pass
    try:  # relative, so the pair survives moving the dataset folder as a whole
        os.symlink(os.path.relpath(src.resolve(), dst.parent.resolve()), dst)
        return "symlink"
    except OSError:
        shutil.copy2(src, dst)
        return "copy"
