"""One rule for one-line command-line errors, shared by the scripts and the `gfdnet` CLI."""

from __future__ import annotations

import pytest


def test_scripts_and_the_gfdnet_cli_share_one_rule_for_one_line_errors():
    from gfdnet_ultra.data.cli import run_script
    from gfdnet_ultra.errors import user_error_message

    def bad_input() -> int:
        raise FileExistsError("out/ exists; pass --force")

    with pytest.raises(SystemExit, match="error: out/ exists; pass --force"):
        run_script(bad_input)
    assert user_error_message(FileExistsError("x")) == "x"
    assert user_error_message(KeyError("bug")) is None

    def bug() -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):  # a bug keeps its traceback
        run_script(bug)
