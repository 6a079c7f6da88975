"""Teach Ultralytics' YAML parser about plugin layers, reusing its own scaling rules unchanged.

`ultralytics.nn.tasks.parse_model` (8.4.x) looks a YAML layer name up with `globals()[m]` and decides how to fill its
arguments with `m in <set>` tests on sets built inside the function (`base_modules`, `repeat_modules`, the Detect
family, `{TorchVision, Index}`); a plugin class can be in none of them. We parse the installed function's source into
a syntax tree, add one explicit plugin set to each of those tests (found by the code they contain, never by comments
or formatting), and compile the tree in the `tasks` namespace, so width, depth, `max_channels` and `make_divisible`
stay upstream's code. Every node keeps its line number, so a traceback through the plugin parser shows Ultralytics'
true lines. Each edit must match exactly once; if a release changes one, `install()` raises naming the installed
version instead of building wrong models.

Only YAMLs that use a plugin layer go through the plugin parser: stock YAMLs are parsed by the original function.
Both get the same error context: a failing row raises ValueError naming the row, its layer and its arguments.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from types import CodeType, FunctionType, TracebackType

from . import patches

__all__ = ("PLUGIN_SETS", "install", "installed", "plugin_parse_model", "uses_plugin_layers")

# Live sets read by the plugin parse_model; registry.register() fills them. Keys are parse kinds.
PLUGIN_SETS: dict[str, set[type]] = {"base": set(), "repeat": set(), "head": set(), "backbone": set()}
_EDIT_NAMES = ("base", "repeat", "multi", "head", "legacy", "backbone")


def _in_channels(ch: list[int], f: int | list[int]) -> int | list[int]:
    """Input width of a YAML row: one int for a single `from`, a list for a multi-input plugin layer."""
    return [ch[x] for x in f] if isinstance(f, (list, tuple)) else ch[f]


def _plugin_set(kind: str) -> ast.expr:
    """`_GFD_SETS['<kind>']`, read at parse time so layers registered later are seen."""
    return ast.Subscript(ast.Name("_GFD_SETS", ast.Load()), ast.Constant(kind), ast.Load())


def _class_names(node: ast.Set) -> set[str]:
    return {e.id for e in node.elts if isinstance(e, ast.Name)}


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


class _AddPluginSets(ast.NodeTransformer):
    """The edits, each recognised by code: counts how often each one applied."""

    def __init__(self):
        self.hits = dict.fromkeys(_EDIT_NAMES, 0)

    def _located(self, new: ast.AST, old: ast.AST, edit: str) -> ast.AST:
        self.hits[edit] += 1
        return ast.fix_missing_locations(ast.copy_location(new, old))

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id in ("base_modules", "repeat_modules"):
            # plugin "plain"/"multi"/"repeat" layers get [c1, c2*width, ...] like Conv; "repeat" ones also get n
            kind = target.id.split("_")[0]
            node.value = self._located(ast.BinOp(value, ast.BitOr(), _plugin_set(kind)), value, kind)
        elif (  # c1, c2 = ch[f], args[0]: multi-input plugin layers get the list of input widths as c1
            isinstance(target, ast.Tuple)
            and [getattr(e, "id", None) for e in target.elts] == ["c1", "c2"]
            and isinstance(value, ast.Tuple)
            and isinstance(value.elts[0], ast.Subscript)
            and _is_name(value.elts[0].value, "ch")
            and _is_name(value.elts[0].slice, "f")
        ):
            call = ast.Call(ast.Name("_gfd_in_channels", ast.Load()), [ast.Name("ch", ast.Load()),
                                                                       ast.Name("f", ast.Load())], [])
            value.elts[0] = self._located(call, value.elts[0], "multi")
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        names = _class_names(node)
        if {"Detect", "WorldDetect"} <= names:  # the heads that get [..., reg_max, end2end, [ch...]]
            node.elts.append(self._located(ast.Starred(_plugin_set("head"), ast.Load()), node, "head"))
        elif "TorchVision" in names:  # backbones returning a list of maps: c2 = args[0], module gets args[1:]
            node.elts.append(self._located(ast.Starred(_plugin_set("backbone"), ast.Load()), node, "backbone"))
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        sets_legacy = any(
            isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Attribute) and s.targets[0].attr == "legacy"
            for s in node.body
        )
        test = node.test
        if sets_legacy and isinstance(test, ast.Compare) and isinstance(test.comparators[0], ast.Set):
            legacy_set = test.comparators[0]  # plugin heads get the same `legacy` flag as Detect
            legacy_set.elts.append(self._located(ast.Starred(_plugin_set("head"), ast.Load()), legacy_set, "legacy"))
        self.generic_visit(node)
        return node


def _compile_plugin_parser(original: FunctionType, namespace: dict, file: str, version: str) -> FunctionType:
    """The plugin parse_model: `original`'s syntax tree with the plugin sets added, compiled at upstream's lines."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(original)))
    edits = _AddPluginSets()
    tree = edits.visit(tree)
    wrong = {k: n for k, n in edits.hits.items() if n != 1}
    if wrong:
        raise RuntimeError(
            f"gfdnet_ultra cannot extend parse_model of ultralytics {version}: the code it edits "
            f"({', '.join(wrong)}) is not found exactly once"
        )
    ast.increment_lineno(tree, original.__code__.co_firstlineno - 1)
    local: dict = {}
    exec(compile(tree, file, "exec"), namespace, local)  # globals are tasks', so upstream names resolve as before
    return local[original.__name__]


def _rows(d: dict) -> list:
    return (d.get("backbone") or []) + (d.get("head") or [])


def _looked_up(m) -> bool:
    """Whether parse_model looks layer name `m` up in its globals (not `nn.*`, `torchvision.ops.*`)."""
    return isinstance(m, str) and not m.startswith(("nn.", "torchvision.ops."))


def uses_plugin_layers(d: dict) -> bool:
    """Whether a model dict names a plugin layer (or a name stock Ultralytics does not know)."""
    import ultralytics.nn.tasks as tasks

    namespace, plugin = vars(tasks), set().union(*PLUGIN_SETS.values())
    names = [row[2] for row in _rows(d) if _looked_up(row[2])]
    return any(m not in namespace or (isinstance(namespace[m], type) and namespace[m] in plugin) for m in names)


def _failing_row(tb: TracebackType | None, codes: tuple[CodeType, ...]) -> dict | None:
    """Locals of the parse_model frame in a traceback, if the error was raised while building a row."""
    while tb is not None:
        if tb.tb_frame.f_code in codes and "i" in tb.tb_frame.f_locals:
            return tb.tb_frame.f_locals
        tb = tb.tb_next
    return None


def _row_error(d: dict, i: int, layer, f, args, e: BaseException) -> ValueError:
    """ValueError naming the YAML row that could not be built, its layer, `from` and arguments."""
    hint = f"; `from` must name earlier rows: -1, or indices 0..{i - 1}" if isinstance(e, IndexError) else ""
    return ValueError(
        f"{d.get('yaml_file', 'model YAML')}: row {i} ({layer}, from {f}, args {args}) could not be built: "
        f"{type(e).__name__}: {e}{hint}"
    )


def _dispatch(original: Callable, plugin: Callable, resolve: Callable[[dict, str], type]) -> Callable:
    """parse_model that sends plugin YAMLs to `plugin`, stock ones to `original`, and names a failing row."""
    codes = (original.__code__, plugin.__code__)

    @functools.wraps(original)
    def parse_model(d, ch, verbose=True):
        import ultralytics.nn.tasks as tasks

        parse = original
        if uses_plugin_layers(d):
            parse = plugin
            for i, (f, _, m, args) in enumerate(_rows(d)):
                if _looked_up(m):
                    try:
                        resolve(vars(tasks), m)  # an unknown name fails listing the plugin layers
                    except ValueError as e:
                        raise _row_error(d, i, m, f, args, e) from None
        try:
            return parse(d, ch, verbose)
        except (TypeError, ValueError, IndexError, KeyError, AssertionError, RuntimeError) as e:
            row = _failing_row(e.__traceback__, codes)
            if row is None:
                raise
            layer = getattr(row.get("m"), "__name__", row.get("m"))
            raise _row_error(d, row["i"], layer, row.get("f"), row.get("args"), e) from e

    return parse_model


def plugin_parse_model() -> Callable:
    """The compiled plugin parser in force (for tests that compare it with the original)."""
    import ultralytics.nn.tasks as tasks

    return tasks.parse_model.plugin


def installed() -> bool:
    """Whether `ultralytics.nn.tasks.parse_model` is ours."""
    import ultralytics.nn.tasks as tasks

    return patches.is_patched(tasks, "parse_model")


def install(resolve: Callable[[dict, str], type]) -> None:
    """Replace `tasks.parse_model` with the dispatcher; `resolve(namespace, name)` looks layer names up."""
    import ultralytics
    import ultralytics.nn.tasks as tasks

    def make(original: FunctionType) -> Callable:
        plugin = _compile_plugin_parser(original, vars(tasks), tasks.__file__, ultralytics.__version__)
        parse_model = _dispatch(original, plugin, resolve)
        parse_model.plugin = plugin
        return parse_model

    patches.replace(tasks, "_GFD_SETS", lambda _: PLUGIN_SETS)
    patches.replace(tasks, "_gfd_in_channels", lambda _: _in_channels)
    patches.replace(tasks, "parse_model", make)  # DetectionModel & co. look it up in tasks' globals at call time
