"""What another CPU would compute differently: stored outputs, floating-point flags.

nbval compares a notebook's text with what it printed when it was executed, on the machine
of whoever executed it. A chaotic computation (Adam at a rate too large, say) turns the
last bit of a rounding, which differs between BLAS kernels (with or without fused
multiply-add) and between numpy's SIMD paths, into different printed digits. Here the
playground's static frames are computed again in a process that runs an older x86 BLAS
kernel (Sandy Bridge's, without FMA) and numpy without AVX, and must read the same;
``make portability`` runs the whole suite that way. The numerics tests run there too:
numpy's code paths also differ in which floating-point flags (underflow, say) they raise.
"""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab.playground import PLAYGROUND_DATA
from nnlab.playground_explorer import STATIC_CHANGES

ROOT = Path(__file__).resolve().parents[1]
#: An older x86-64 CPU: OpenBLAS's Sandy Bridge kernels (AVX, no FMA), numpy's SSE4.2 paths,
#: and glibc's maths functions without FMA or AVX (numpy's float64 exp, tanh, log1p... call
#: them when its own SIMD code is off; glibc picks its versions by CPU, not by numpy).
OLD_CPU = {"OPENBLAS_CORETYPE": "Sandybridge",
           "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
           "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX"}
FRAMES = """
import json, sys
from nnlab import widgets
pg = widgets.playground()
out = []
for values in json.loads(sys.argv[1]):
    _, _, numbers, warning = pg.static_frame({**pg.values(), **values})
    out.append([numbers, warning])
print(json.dumps(out))
"""


def frames(settings, env=None):
    run = subprocess.run([sys.executable, "-c", FRAMES, json.dumps(settings)],
                         capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return json.loads(run.stdout)


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the BLAS kernel and SIMD names are those of x86-64")
def test_the_static_playground_reads_the_same_on_an_older_cpu():
    # The frames of the learning rate's other value, whose rate is the one the static page
    # may choose freely, and of the defaults: those are where chaos would show.
    settings = [{"dataset": name, **extra} for name in PLAYGROUND_DATA
                for extra in ({}, {"lr": STATIC_CHANGES["lr"][0]})]
    here = frames(settings)
    assert len(here) == 10 and all(n.startswith("epoch 100: train loss") for n, _ in here)
    assert frames(settings, OLD_CPU) == here


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the BLAS kernel and SIMD names are those of x86-64")
def test_the_numerics_tests_pass_on_an_older_cpu():
    # numpy's tanh flagged the underflow of a subnormal input on its SSE path alone, so the
    # activations' "tiny results are quiet" test failed on such a CPU and nowhere else.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_activation_numerics.py", "tests/test_loss_numerics.py"],
                         capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), **OLD_CPU})
    assert run.returncode == 0, run.stdout[-3000:]
