"""Teach Ultralytics' YAML parser about plugin layers, reusing its own scaling rules unchanged.

`ultralytics.nn.tasks.parse_model` (8.4.x) looks a YAML layer name up with `globals()[m]` and decides how to fill its
arguments with `m in <set>` tests on sets built inside the function (`base_modules`, `repeat_modules`, the Detect
family, `{TorchVision, Index}`); a plugin class can be in none of them. We take the installed function's source, add
one explicit plugin set to each membership test, and compile it back into the `tasks` namespace, so width, depth,
`max_channels` and `make_divisible` stay upstream's code. Each edit names an anchor line that must occur exactly once;
if a future release reformats one, `install()` raises naming the installed version instead of building wrong models.

The installed files are never touched: only the in-memory `tasks.parse_model` binding is replaced, and `uninstall()`
puts the original back.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable
from types import CodeType, TracebackType

__all__ = ("PLUGIN_SETS", "install", "installed", "uninstall")

# Live sets read by the patched parse_model; registry.register() fills them. Keys are parse kinds.
PLUGIN_SETS: dict[str, set[type]] = {"base": set(), "repeat": set(), "head": set(), "backbone": set()}

_PATCH_FLAG = "_gfdnet_patched"

# (anchor, replacement): each anchor must occur exactly once in parse_model's source.
_EDITS = (
    (  # plugin "plain"/"multi"/"repeat" layers get [c1, c2*width, ...] like Conv
        "    repeat_modules = frozenset(  # modules with 'repeat' arguments",
        "    base_modules = base_modules | _GFD_SETS['base']; repeat_modules = frozenset(  # modules with 'repeat' arguments",
    ),
    (  # plugin "repeat" layers also get n inserted like C2f
        '    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):  # from, number, module, args',
        "    repeat_modules = repeat_modules | _GFD_SETS['repeat']\n"
        '    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):  # from, number, module, args',
    ),
    (  # unknown names: a clear error listing the plugin layers instead of a bare KeyError
        "            else globals()[m]\n",
        "            else _gfd_resolve(globals(), m)\n",
    ),
    (  # multi-input plugin layers: c1 is the list of input widths, in the `from` order
        "            c1, c2 = ch[f], args[0]\n",
        "            c1, c2 = _gfd_in_channels(ch, f), args[0]\n",
    ),
    (  # plugin heads get [..., reg_max, end2end, [ch...]] like Detect
        "                Detect,\n                WorldDetect,\n",
        "                Detect,\n                *_GFD_SETS['head'],\n                WorldDetect,\n",
    ),
    (  # and the same `legacy` flag as Detect
        "            if m in {Detect, YOLOEDetect,",
        "            if m in _GFD_SETS['head'] or m in {Detect, YOLOEDetect,",
    ),
    (  # plugin backbones return a list of features like TorchVision: c2 = args[0], module gets args[1:]
        "        elif m in frozenset({TorchVision, Index}):",
        "        elif m in frozenset({TorchVision, Index, *_GFD_SETS['backbone']}):",
    ),
)


def _in_channels(ch: list[int], f: int | list[int]) -> int | list[int]:
    """Input width of a YAML row: one int for a single `from`, a list for a multi-input plugin layer."""
    return [ch[x] for x in f] if isinstance(f, (list, tuple)) else ch[f]


def _failing_row(tb: TracebackType | None, code: CodeType) -> dict | None:
    """Locals of the patched parse_model frame in a traceback, if the error was raised while building a row."""
    while tb is not None:
        if tb.tb_frame.f_code is code and "i" in tb.tb_frame.f_locals:
            return tb.tb_frame.f_locals
        tb = tb.tb_next
    return None


def _with_row_context(parse: Callable) -> Callable:
    """Wrap parse_model so a failing YAML row raises ValueError naming the row, its layer and its arguments."""

    @functools.wraps(parse)
    def parse_model(d, ch, verbose=True):
        try:
            return parse(d, ch, verbose)
        except (TypeError, ValueError, IndexError, KeyError, AssertionError, RuntimeError) as e:
            row = _failing_row(e.__traceback__, parse.__code__)
            if row is None:
                raise
            layer = getattr(row.get("m"), "__name__", row.get("m"))
            hint = (
                f"; `from` must name earlier rows: -1, or indices 0..{row['i'] - 1}"
                if isinstance(e, IndexError)
                else ""
            )
            raise ValueError(
                f"{d.get('yaml_file', 'model YAML')}: row {row['i']} ({layer}, from {row.get('f')}, "
                f"args {row.get('args')}) could not be built: {type(e).__name__}: {e}{hint}"
            ) from e

    return parse_model


def installed() -> bool:
    """Whether `ultralytics.nn.tasks.parse_model` is the patched one."""
    import ultralytics.nn.tasks as tasks

    return getattr(tasks.parse_model, _PATCH_FLAG, False)


def install(resolve: Callable[[dict, str], type]) -> None:
    """Replace `tasks.parse_model` with the patched copy; `resolve(namespace, name)` looks layer names up."""
    import ultralytics
    import ultralytics.nn.tasks as tasks

    tasks._GFD_SETS, tasks._gfd_in_channels, tasks._gfd_resolve = PLUGIN_SETS, _in_channels, resolve
    if installed():
        return
    original = tasks.parse_model
    src = textwrap.dedent(inspect.getsource(original))
    for anchor, replacement in _EDITS:
        if src.count(anchor) != 1:
            raise RuntimeError(
                f"gfdnet_ultra cannot extend parse_model of ultralytics {ultralytics.__version__}: the line "
                f"{anchor.strip()!r} is not found exactly once. Supported: ultralytics>=8.4.190,<8.5."
            )
        src = src.replace(anchor, replacement)
    first_line = inspect.getsourcelines(original)[1]
    code = compile("\n" * (first_line - 1) + src, tasks.__file__, "exec")  # tracebacks keep upstream line numbers
    namespace: dict = {}
    exec(code, tasks.__dict__, namespace)  # globals are tasks', so upstream names resolve as before
    patched = _with_row_context(namespace["parse_model"])
    patched.__wrapped__ = original
    setattr(patched, _PATCH_FLAG, True)
    tasks.parse_model = patched  # DetectionModel & co. look parse_model up in tasks' globals at call time


def uninstall() -> None:
    """Restore the original `tasks.parse_model` (for tests that prove stock behaviour)."""
    import ultralytics.nn.tasks as tasks

    if installed():
        tasks.parse_model = tasks.parse_model.__wrapped__
