"""The supported Ultralytics range is written once: the install requirement and the run-time check agree."""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from gfdnet_ultra.integration.versions import supported_spec


def test_install_requirement_is_the_supported_range():
    requires = [Requirement(r) for r in metadata.requires("gfdnet-ultra")]
    ultralytics = [r for r in requires if r.name == "ultralytics"]
    assert [r.specifier for r in ultralytics] == [SpecifierSet(supported_spec())]
    assert {"torch", "onnxruntime", "cloudpickle"} <= {r.name for r in requires}


def test_the_range_reads_as_a_pip_specifier():
    assert supported_spec() == ">=8.4.190,<8.5"
