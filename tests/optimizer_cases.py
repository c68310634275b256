"""Helpers shared by the optimizer tests: steps of an optimizer on one parameter, and an
array that fails every float32 operation computed in float64."""

import numpy as np


def run(opt, grads, p0=1.0):
    p = np.array([p0])
    trajectory = []
    for g in grads:
        opt.step([p], [np.array([g])])
        trajectory.append(p[0])
    return trajectory


class Float32Only(np.ndarray):
    """An array that fails every NumPy operation on float32 arrays that computes in float64.

    Under NumPy 2's promotion rules (NEP 50) a NumPy float64 scalar, such as ``np.sqrt(0.5)``,
    is not "weak" like a Python float: ``a32 /= np.sqrt(c)`` computes in float64 and casts
    back, silently and several times slower. The result stays float32, so only the
    operands show it.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        def plain(a):
            return a.view(np.ndarray) if isinstance(a, Float32Only) else a

        inputs = [plain(a) for a in inputs]
        float32 = any(getattr(a, "dtype", None) == np.float32 for a in inputs)
        assert not (float32 and np.result_type(*inputs) == np.float64), \
            f"{ufunc.__name__} of float32 arrays computes in float64"
        if out is not None:
            kwargs["out"] = tuple(plain(a) for a in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:   # in place: hand back the watched arrays themselves
            return out[0] if len(out) == 1 else out
        return result.view(Float32Only) if isinstance(result, np.ndarray) else result
