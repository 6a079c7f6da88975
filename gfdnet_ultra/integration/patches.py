"""The one way gfdnet_ultra changes Ultralytics: recorded replacements that `uninstall()` undoes, newest first.

Every change goes through `replace` (an attribute of a module, class or object: a function, a property, a name the
YAML parser looks up), `add` (a list or set, such as Ultralytics' default callbacks) or `setdefault` (a dict, such as
the default config). Each records what was there before, so a second call is a no-op and `uninstall()` puts back exactly
what stock Ultralytics had. A replacement function carries the original as `__gfdnet_original__`, the one mark
`is_patched` reads. The table of what we replace, and why, is in `integration/__init__.py`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ("MARK", "add", "applied", "is_patched", "original", "replace", "scope", "setdefault", "uninstall", "wrap")

MARK = "__gfdnet_original__"
_MISSING = object()


@dataclass(frozen=True)
class _Change:
    """One recorded change: how to find it again and how to undo it."""

    owner: Any
    key: Any
    before: Any
    undo: Callable[[], None]


_APPLIED: list[_Change] = []


def _find(owner: Any, key: Any) -> _Change | None:
    return next((c for c in _APPLIED if c.owner is owner and c.key == key), None)


def _own(owner: Any, name: str) -> Any:
    """The attribute as stored on `owner` itself (a property object, not its value), or _MISSING."""
    return vars(owner).get(name, _MISSING) if hasattr(owner, "__dict__") else getattr(owner, name, _MISSING)


def replace(owner: Any, name: str, make: Callable[[Any], Any], before: Any = _MISSING) -> Any:
    """Set `owner.name = make(original)` once and return it; `before` overrides the recorded original.

    `before` is for a module that imported the function by name while it was still being imported (its own binding
    may be missing or already ours); `uninstall()` then restores `before`.
    """
    done = _find(owner, name)
    if done is not None:
        return _own(owner, name)
    first = _own(owner, name) if before is _MISSING else before
    value = make(first)

    def undo() -> None:
        if first is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, first)

    if callable(value) and not isinstance(value, type):
        setattr(value, MARK, first)
    setattr(owner, name, value)
    _APPLIED.append(_Change(owner, name, first, undo))
    return value


def wrap(owner: Any, name: str, wrapper: Callable[..., Any], before: Any = _MISSING) -> Any:
    """Replace a function with `wrapper(original, *args, **kwargs)` (same name and docstring as the original)."""

    def make(original: Callable) -> Callable:
        @functools.wraps(original)
        def patched(*args, **kwargs):
            return wrapper(original, *args, **kwargs)

        return patched

    return replace(owner, name, make, before)


def add(items: list | set, item: Any) -> None:
    """Add `item` to a list (appended) or a set once, e.g. a default callback."""
    if _find(items, id(item)) is None and item not in items:
        (items.append if isinstance(items, list) else items.add)(item)
        _APPLIED.append(_Change(items, id(item), _MISSING, lambda: items.remove(item)))


def setdefault(mapping: dict, key: str, value: Any) -> None:
    """Add `key` to a host dict once, unless the host already has it."""
    if _find(mapping, key) is None and key not in mapping:
        mapping[key] = value
        _APPLIED.append(_Change(mapping, key, _MISSING, lambda: mapping.pop(key, None)))


def is_patched(owner: Any, name: str) -> bool:
    """Whether `owner.name` is one of our recorded replacements."""
    return _find(owner, name) is not None


def original(owner: Any, name: str) -> Any:
    """What `owner.name` was before we replaced it (the current value when we did not)."""
    change = _find(owner, name)
    return getattr(owner, name) if change is None else change.before


def applied() -> list[tuple[Any, Any]]:
    """(owner, name or key) of every change in force, oldest first."""
    return [(c.owner, c.key) for c in _APPLIED]


def _undo_to(count: int) -> None:
    while len(_APPLIED) > count:
        _APPLIED.pop().undo()


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Undo, on exit, the changes made inside the block (e.g. probe layers published for a self-test)."""
    start = len(_APPLIED)
    try:
        yield
    finally:
        _undo_to(start)


def uninstall() -> None:
    """Undo every recorded change, newest first, so Ultralytics is exactly as it was before."""
    _undo_to(0)
