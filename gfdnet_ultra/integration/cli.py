"""`gfdnet` console script: the `yolo` command with gfdnet_ultra registered, same `key=value` arguments.

`gfdnet train model=gfdnet-n.yaml data=mecd.yaml` behaves exactly like `yolo train ...`; `gfdnet fit-gate ...` and
`gfdnet train-gate ...` are the gate's own commands (gate/commands.py). Ultralytics decides whether
a predict call is a CLI run (and saves results by default) from `sys.argv[0]` ending in "yolo"
(engine/model.py, 8.4.x), so the script presents itself as `yolo` to keep that behaviour. Errors that we raise for bad
input (unknown layer or model name, bad layer arguments, missing files) are printed as one clear line and exit with 2.
`gfdnet predict-gated model=<stem>-gate.onnx source=<folder>` runs a gated ONNX pair (`deploy/predict_gated.py`).
"""

from __future__ import annotations

import sys

__all__ = ("main",)


def main(argv: list[str] | None = None) -> int:
    """Run the Ultralytics CLI entry point with our layers registered."""
    from ultralytics.cfg import entrypoint

    from ..errors import user_error_message
    from .registry import register_or_warn

    register_or_warn()  # before any YAML is parsed; on failure `gfdnet` still runs stock `yolo`

    if argv is not None:
        sys.argv[1:] = argv
    from ..gate.commands import COMMANDS, run_command

    command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in COMMANDS else None
    sys.argv[0] = "yolo"  # same list object as ultralytics' ARGV
    try:
        if command:
            return run_command(command, sys.argv[2:])
        if sys.argv[1:2] == ["predict-gated"]:
            from ..deploy.predict_gated import main as predict_gated

            return predict_gated(sys.argv[2:])
        entrypoint()
    except Exception as e:  # a clear line for bad input, the full traceback for anything else
        message = user_error_message(e)
        if message is None:
            raise
        print(f"gfdnet: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
