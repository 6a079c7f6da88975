"""The benchmark's run description names the commit, and says when the working tree differed from it."""

from __future__ import annotations

import subprocess

from gfdnet_ultra.bench.env import environment


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True)


def test_commit_is_marked_dirty_when_the_tree_has_uncommitted_changes(tmp_path, monkeypatch):
    (tmp_path / "m.yaml").write_text("nc: 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "m.yaml")
    _git(tmp_path, "commit", "-q", "-m", "m")
    monkeypatch.chdir(tmp_path)
    clean = environment(1)["commit"]
    assert len(clean) == 7 and not clean.endswith("-dirty")
    (tmp_path / "m.yaml").write_text("nc: 2\n")
    assert environment(1)["commit"] == f"{clean}-dirty"


def test_commit_is_unknown_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert environment(1)["commit"] == "unknown"
