"""Which CPU kernels the page code runs with: the one place where they are chosen.

PyTorch, MKL, oneDNN, OpenBLAS and numpy pick their vectorised kernels by CPU at run time, and
small training runs then differ in the printed digits from one CPU to the next. The outputs shown
on the pages are written with the ``pinned`` set (AVX2, one thread) and reproduce on any x86-64
CPU with AVX2. The ``second`` set (no ATen vectorisation, MKL and oneDNN capped at AVX, so no
fused multiply-add in torch; numpy's own loops below AVX2, its OpenBLAS as pinned) rounds
differently: the tests run every page under it too, with outputs not compared and every assert
on, so that no claim rests on one CPU's rounding.

Every entry point that runs page code applies a set before torch or mxnet is imported:
``./dev`` (``python -m pagerun.kernels exports SET``), ``conftest.py`` and the build hook.
The variables are read once, when the libraries load or first compute: setting them later has
no effect, which ``problem()`` detects inside the page runs.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ENV = "COMPANION_KERNELS"  # "pinned", "second" or "unpinned" (a CPU that cannot run AVX2)

_THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
SETS: dict[str, dict[str, str]] = {
    "pinned": {
        "ATEN_CPU_CAPABILITY": "avx2",  # torch's own vectorised kernels
        "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility (torch GEMM)
        "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's oneDNN (convolutions)
        "DNNL_MAX_CPU_ISA": "AVX2",  # mxnet's bundled oneDNN reads only this name
        **_THREADS,
    },
    "second": {
        "ATEN_CPU_CAPABILITY": "default",
        # AVX without FMA: other GEMM and convolution rounding than AVX2, measured 1.8x faster
        # for an MLP step than MKL's COMPATIBLE path with oneDNN at SSE4.1 (the earlier set).
        "MKL_CBWR": "AVX",
        "ONEDNN_MAX_CPU_ISA": "AVX",
        "DNNL_MAX_CPU_ISA": "AVX",
        **_THREADS,
    },
    "unpinned": dict(_THREADS),
}
# What torch reports inside a page run under each set.
TORCH_CAPABILITY = {"pinned": "AVX2", "second": "DEFAULT"}
# OpenBLAS (numpy's and mxnet's) is pinned only where the environment does not choose already:
# some machines set OPENBLAS_CORETYPE because older OpenBLAS builds misbehave on their CPU.
OPENBLAS_DEFAULT = {"OPENBLAS_CORETYPE": "Haswell"}
# numpy dispatches its own SIMD loops (sin, exp, ... ; AVX-512 ones use SVML) by CPU at import,
# choosing among its dispatch targets (__cpu_dispatch__: AVX2, AVX512F, AVX512_SKX, ...).
# NPY_DISABLE_CPU_FEATURES turns targets off, but only dispatch targets this CPU has: numpy warns
# about any other name and ignores it (AVX512BW, AVX512VL, ... are flags inside the AVX512_SKX
# target, not targets). So the value is worked out per machine: the pinned set runs numpy at
# AVX2 at most, the second set below AVX2 (no FMA).
NPY_DISABLE = "NPY_DISABLE_CPU_FEATURES"
NUMPY_OFF = {"pinned": ("AVX512",), "second": ("AVX512", "AVX2", "FMA3")}


def _numpy_off(name: str) -> tuple[str, ...]:
    return NUMPY_OFF.get(name, ())


def _dispatched(umath) -> list[str]:
    """The dispatch targets that numpy's ``_multiarray_umath`` module has switched on."""
    return [k for k in umath.__cpu_dispatch__ if umath.__cpu_features__.get(k)]


def _print_numpy_dispatched() -> None:
    """The probe run by ``numpy_cpu_features`` in a fresh process: import numpy, print targets."""
    try:
        from numpy._core import _multiarray_umath as u
    except ImportError:
        from numpy.core import _multiarray_umath as u
    print(" ".join(_dispatched(u)))


@functools.lru_cache(maxsize=1)
def numpy_cpu_features() -> tuple[str, ...]:
    """numpy's dispatch targets that this CPU runs (asked in a fresh process, none disabled)."""
    env = {k: v for k, v in os.environ.items() if k != NPY_DISABLE}
    out = subprocess.run(
        [sys.executable, "-P", __file__, "numpy-features"],  # -P: no pagerun/ on sys.path
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        # No features known: the pinned set then turns nothing off, and the check inside the
        # page runs (_numpy_problem) reports numpy's AVX-512 loops if there are any.
        print(
            f"pagerun.kernels: could not ask numpy for its CPU features: {out.stderr.strip()}",
            file=sys.stderr,
        )
    return tuple(out.stdout.split())


def numpy_disabled(name: str) -> str:
    """The value of NPY_DISABLE_CPU_FEATURES for set ``name`` on this CPU ('' for none)."""
    off = _numpy_off(name)
    return " ".join(f for f in numpy_cpu_features() if f.startswith(off)) if off else ""


def cpu_runs_avx2() -> tuple[bool, str]:
    """Whether this CPU can run the pinned AVX2 kernels, and if not, why not."""
    machine = platform.machine().lower()
    if machine not in {"x86_64", "amd64"}:
        return False, f"this CPU is {platform.machine()}, not x86-64"
    flags = _cpu_flags()
    if flags is None:
        return False, "could not read this CPU's instruction sets"
    missing = {"avx2", "fma"} - flags
    if missing:
        return False, f"this CPU lacks {', '.join(sorted(missing)).upper()}"
    return True, ""


def _cpu_flags() -> set[str] | None:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
        return None
    if sys.platform == "darwin":
        out = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return {w.lower() for w in out.split()} or None
    return None


def variables(name: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment variables of kernel set ``name`` (OpenBLAS left as the caller has it)."""
    if name not in SETS:
        raise ValueError(f"expected a kernel set in {sorted(SETS)}, got {name!r}")
    environ = os.environ if environ is None else environ
    chosen = {ENV: name, **SETS[name]}
    if name in NUMPY_OFF:
        chosen[NPY_DISABLE] = numpy_disabled(name)
    chosen.update({k: v for k, v in OPENBLAS_DEFAULT.items() if k not in environ})
    return chosen


def default_set() -> str:
    """The set a run gets unless it asks: ``pinned`` where the CPU allows, else ``unpinned``."""
    return "pinned" if cpu_runs_avx2()[0] else "unpinned"


def apply(name: str | None = None) -> str:
    """Put kernel set ``name`` (default: the one ``COMPANION_KERNELS`` names, else the default)
    into ``os.environ``, overriding what the caller set. Call it before torch is imported."""
    name = name or os.environ.get(ENV) or default_set()
    if name == "pinned" and not cpu_runs_avx2()[0]:
        name = "unpinned"
    os.environ.update(variables(name))
    return name


def outputs_comparable() -> bool:
    """Printed outputs are compared only under the pinned set (they were written with it)."""
    return os.environ.get(ENV) == "pinned"


def problem() -> str:
    """Why the kernels in effect in this process are not the set it asked for ('' when they are)."""
    name = os.environ.get(ENV)
    if name not in SETS:
        return f"{ENV} is {name!r}: run the pages through ./dev or pytest (they choose the kernels)"
    wrong = [
        f"{k}={os.environ.get(k)!r} (expected {v!r})"
        for k, v in SETS[name].items()
        if os.environ.get(k) != v
    ]
    if "torch" in sys.modules and name in TORCH_CAPABILITY:
        got = sys.modules["torch"].backends.cpu.get_cpu_capability()
        if got != TORCH_CAPABILITY[name]:
            wrong.append(
                f"torch runs {got} kernels (expected {TORCH_CAPABILITY[name]}: "
                "torch chose its kernels before the kernel set was applied)"
            )
    wrong += _numpy_problem(name)
    return f"CPU kernels not as set {name!r}: " + "; ".join(wrong) if wrong else ""


def _numpy_problem(name: str) -> list[str]:
    """numpy's SIMD features that are on although set ``name`` turns them off."""
    umath = sys.modules.get("numpy._core._multiarray_umath") or sys.modules.get(
        "numpy.core._multiarray_umath"
    )
    off = _numpy_off(name)
    if umath is None or not off:
        return []
    on = sorted(k for k in _dispatched(umath) if k.startswith(off))
    if not on:
        return []
    return [
        f"numpy runs {' '.join(on)} loops ({NPY_DISABLE} did not name them when numpy was imported)"
    ]


def describe() -> str:
    """One line for the test summary, e.g. 'CPU kernels: AVX2, pinned'."""
    name = os.environ.get(ENV)
    if name == "pinned":
        return "CPU kernels: AVX2, pinned"
    if name == "second":
        return "CPU kernels: second set (ATen default, MKL and oneDNN AVX, no FMA in torch)"
    return (
        f"CPU kernels: not pinned ({cpu_runs_avx2()[1] or 'not asked for'}); outputs not compared"
    )


def main(argv: list[str]) -> int:
    """``python -m pagerun.kernels exports [SET]`` prints shell exports; ``check`` says if AVX2
    runs."""
    if argv[:1] == ["exports"]:
        name = argv[1] if len(argv) > 1 else default_set()
        for key, value in variables(name).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if argv[:1] == ["numpy-features"]:
        _print_numpy_dispatched()
        return 0
    if argv[:1] == ["check"]:
        ok, why = cpu_runs_avx2()
        print("AVX2 kernels run here" if ok else why)
        return 0 if ok else 1
    print(
        "usage: python -m pagerun.kernels exports [pinned|second|unpinned] | check", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
