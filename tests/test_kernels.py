"""The CPU kernel sets of pagerun.kernels: applied, checked inside page runs, reported."""

import os
import subprocess
import sys
import textwrap

import pytest

from pagerun import kernels
from pagerun.execute import PageRunner

AVX2, _ = kernels.cpu_runs_avx2()


def test_the_tests_run_with_a_kernel_set_in_effect():
    import torch  # noqa: F401 - problem() checks the kernels torch actually runs

    assert os.environ[kernels.ENV] in kernels.SETS
    assert kernels.problem() == ""


@pytest.mark.skipif(not AVX2, reason="this CPU cannot run the pinned AVX2 kernels")
def test_torch_runs_the_kernels_of_the_set():
    import torch

    name = os.environ[kernels.ENV]
    if name in kernels.TORCH_CAPABILITY:
        assert torch.backends.cpu.get_cpu_capability() == kernels.TORCH_CAPABILITY[name]


def test_apply_overrides_what_the_caller_set(monkeypatch):
    for key in kernels.variables("second"):  # monkeypatch restores them after the test
        monkeypatch.setenv(key, os.environ.get(key, ""))
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    monkeypatch.setenv("MKL_CBWR", "AUTO")
    monkeypatch.setenv(kernels.ENV, "second")
    assert kernels.apply("second") == "second"
    assert os.environ["ATEN_CPU_CAPABILITY"] == "default"
    assert os.environ["MKL_CBWR"] == "AVX"


def test_openblas_core_type_set_by_the_environment_is_left_alone():
    assert (
        kernels.variables("pinned", {"OPENBLAS_CORETYPE": "Zen"}).get("OPENBLAS_CORETYPE") is None
    )
    assert kernels.variables("pinned", {})["OPENBLAS_CORETYPE"] == "Haswell"


def test_bad_set_name_is_rejected():
    with pytest.raises(ValueError, match="expected a kernel set in"):
        kernels.variables("avx512")


def test_a_wrong_variable_is_named(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "pinned")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert "ATEN_CPU_CAPABILITY='default' (expected 'avx2')" in kernels.problem()
    monkeypatch.delenv(kernels.ENV)
    assert "run the pages through ./dev" in kernels.problem()


def test_a_page_run_fails_when_the_kernels_are_not_as_set(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n")
    monkeypatch.setenv(kernels.ENV, "pinned")
    monkeypatch.setenv("MKL_CBWR", "AUTO")
    (result,) = PageRunner(page).run_all()
    assert result.status == "failed"
    assert "MKL_CBWR='AUTO' (expected 'AVX2')" in result.error


@pytest.mark.skipif(not AVX2, reason="this CPU cannot run the pinned AVX2 kernels")
def test_setting_the_variables_after_torch_ran_is_detected():
    code = textwrap.dedent("""
        import os, torch
        torch.ones(1000).sum()  # torch chooses its kernels at the first operation
        from pagerun import kernels
        os.environ.update(kernels.variables("pinned"))
        print(kernels.problem())
    """)
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=kernels.__file__.rsplit("/pagerun/", 1)[0],
        check=True,
    ).stdout
    assert "torch runs DEFAULT kernels (expected AVX2" in out


def test_the_command_line_prints_exports():
    out = subprocess.run(
        [sys.executable, "-m", "pagerun.kernels", "exports", "second"],
        capture_output=True,
        text=True,
        check=True,
        cwd=kernels.__file__.rsplit("/pagerun/", 1)[0],
    ).stdout
    assert "export ATEN_CPU_CAPABILITY=default" in out.splitlines()
    assert f"export {kernels.ENV}=second" in out.splitlines()


def test_describe_names_the_pinned_set(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "pinned")
    assert kernels.describe() == "CPU kernels: AVX2, pinned"


def test_a_cpu_that_cannot_run_avx2_gets_the_unpinned_set(monkeypatch):
    monkeypatch.setattr(kernels.platform, "machine", lambda: "arm64")
    assert kernels.cpu_runs_avx2() == (False, "this CPU is arm64, not x86-64")
    for key in kernels.variables("pinned"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
    assert kernels.apply("pinned") == "unpinned"
    assert not kernels.outputs_comparable()
    assert kernels.describe().startswith("CPU kernels: not pinned (this CPU is arm64")


def test_numpy_runs_without_the_features_the_set_turns_off():
    from numpy.core import _multiarray_umath as umath

    name = os.environ[kernels.ENV]
    off = kernels.NUMPY_OFF.get(name, ())
    on = [k for k in kernels._dispatched(umath) if k.startswith(off)] if off else []
    assert on == []


def test_only_numpys_dispatch_targets_are_turned_off():
    """numpy warns about and ignores any other name (AVX512BW is a flag inside AVX512_SKX)."""
    from numpy.core._multiarray_umath import __cpu_dispatch__

    for name in kernels.NUMPY_OFF:
        assert set(kernels.numpy_disabled(name).split()) <= set(__cpu_dispatch__)


@pytest.mark.skipif("FMA3" not in kernels.numpy_cpu_features(), reason="numpy has no FMA3 here")
def test_numpy_features_turned_off_after_numpy_was_imported_are_detected():
    code = textwrap.dedent("""
        import os, numpy
        from pagerun import kernels
        os.environ.update(kernels.variables("second"))
        print(kernels.problem())
    """)
    env = {k: v for k, v in os.environ.items() if k != kernels.NPY_DISABLE}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=kernels.__file__.rsplit("/pagerun/", 1)[0],
        check=True,
    ).stdout
    assert "numpy runs" in out and "NPY_DISABLE_CPU_FEATURES did not name them" in out


def test_exports_quote_a_value_with_spaces(monkeypatch, capsys):
    monkeypatch.setattr(kernels, "numpy_disabled", lambda name: "FMA3 AVX2")
    assert kernels.main(["exports", "second"]) == 0
    assert f"export {kernels.NPY_DISABLE}='FMA3 AVX2'" in capsys.readouterr().out.splitlines()
