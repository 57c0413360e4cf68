"""MXNet <-> PyTorch parity: compare a Gluon original with its PyTorch port numerically.

Every comparison appends a record to ``RECORDS`` (the site's parity report is built from
them) and raises [`ParityError`][] when a difference exceeds its tolerance. A record is a dict
``{name, what, max_abs, max_rel, tolerance, passed}``.

Public API (stable: the chapter pages call it)

- ``assert_close(name, what, mxnet_value, torch_value, tol=1e-5) -> float``
  compare two values (NDArray, tensor, array, number) by max abs difference; record; raise.
- ``copy_params(mx_block, torch_module) -> list[tuple[str, str]]``
  copy every MXNet parameter (and BatchNorm running statistics) into the PyTorch module, pairing
  them by structure: registration order (Gluon ``collect_params()`` vs torch modules in order,
  each with its parameters, then its ``running_mean``/``running_var``), checked by kind
  (weight, bias, gamma/beta, running stats, RNN ``l0_i2h_weight`` <-> ``weight_ih_l0`` ...) and
  shape. Returns the (MXNet name, PyTorch name) pairs. A mismatch raises [`ParityError`][]
  naming the first parameter that does not fit.
- ``compare(name, mx_block, torch_module, x, *, y=None, loss=None, train=False, steps=0,
  lr=0.1, momentum=0.0, wd=0.0, tol=None, batch_size=None, allow_zero_grad=False,
  grads=True) -> ParityResult``
  copy the parameters, run both on the numpy input ``x`` and compare the outputs, the loss, the
  gradient of every parameter, the running statistics and, with ``steps > 0``, every parameter
  after ``steps`` SGD steps (Gluon ``Trainer('sgd')`` with ``trainer.step(batch_size)`` vs
  ``torch.optim.SGD``) on the same mini-batches. Dropout masks drawn by MXNet are applied in
  PyTorch. See [`compare`][] for the conventions. The [`ParityResult`][] has ``rows`` (the
  records it made), ``pairs``, ``passed``, ``max_abs``; ``str(result)`` lists the rows without
  the machine-dependent differences, for printing on a page.
- ``expect_mismatch()``: a context manager for pages that show a broken port being caught: it
  requires a [`ParityError`][] inside and keeps the failing records out of the report.
- ``config_differences(mx_block, torch_module) -> list[str]``: known hyperparameter mismatches
  (BatchNorm momentum/eps, RNN activation/layout); [`compare`][] appends them to its errors.
- ``TOLERANCES``: the default tolerance per dtype; ``LOSSES``: the named loss pairs.

Importing this module never imports mxnet; the functions that need it import it when called.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RECORDS: list[dict] = []

#: Default tolerance on max |MXNet - PyTorch| per floating dtype (the lower precision of the two
#: models decides). It is absolute for values of magnitude <= 1 and scales with max |MXNet value|
#: above that: the effective tolerance is ``tol * max(1, max|MXNet value|)``.
TOLERANCES: dict[str, float] = {"float32": 1e-5, "float64": 1e-8}

#: Named loss pairs accepted by ``compare(loss=...)``: Gluon loss <-> the correct PyTorch port.
LOSSES = ("l2", "softmax_ce", "sigmoid_bce")


class ParityError(AssertionError):
    """A port differs from the original by more than the tolerance.

    ```python
    from companion.parity import ParityError, assert_close

    try:
        assert_close("demo", "output", [1.0, 2.0], [1.0, 2.1], tol=1e-5)
    except ParityError as err:
        assert "exceeds tolerance" in str(err)
    else:
        raise AssertionError("expected a ParityError")
    ```
    """


def to_numpy(value: Any) -> np.ndarray:
    """An MXNet NDArray, torch tensor, numpy array or number as a float64 numpy array.

    ```python
    import torch
    from companion.parity import to_numpy

    a = to_numpy(torch.ones(2, requires_grad=True))
    assert a.dtype == "float64" and a.tolist() == [1.0, 1.0]
    ```
    """
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    elif hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"expected an NDArray, a tensor, an array or a number, got "
            f"{type(value).__name__}: {value!r:.80}"
        ) from err


def assert_close(
    name: str, what: str, mxnet_value: Any, torch_value: Any, tol: float = 1e-5
) -> float:
    """Check that two results agree within ``tol`` (max abs difference); record and return the
    difference.

    ```python
    import numpy as np
    import torch
    from companion.parity import assert_close

    diff = assert_close("demo", "sum", np.float32(3.0), torch.tensor(3.0), tol=1e-6)
    assert diff == 0.0
    ```
    """
    a, b = to_numpy(mxnet_value), to_numpy(torch_value)
    if a.shape != b.shape and a.size == b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape:
        raise ParityError(f"{name}: {what}: shapes differ, MXNet {a.shape} vs PyTorch {b.shape}")
    tol = float(tol)  # a numpy scalar would make the record unserialisable
    if not tol >= 0:
        raise ValueError(f"expected tol >= 0, got {tol}")
    max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    passed = bool(max_abs <= tol)
    RECORDS.append(
        {
            "name": name,
            "what": what,
            "max_abs": max_abs,
            "max_rel": max_abs / scale if scale else 0.0,
            "tolerance": tol,
            "passed": passed,
        }
    )
    if not passed:
        raise ParityError(
            f"{name}: {what}: max abs difference {max_abs:.3g} exceeds tolerance {tol:.0e}"
        )
    return max_abs


@contextlib.contextmanager
def expect_mismatch() -> Iterator[dict]:
    """Require a [`ParityError`][] inside the ``with`` block; keep its records out of the report.

    For pages that demonstrate a broken port being caught. The yielded dict gets ``"error"``, the
    message of the caught error. Raises ``AssertionError`` when nothing mismatched.

    ```python
    from companion.parity import assert_close, expect_mismatch

    with expect_mismatch() as caught:                 # a page showing a broken port
        assert_close("demo", "loss", 1.0, 2.0)
    assert "max abs difference 1" in caught["error"]
    ```
    """
    start = len(RECORDS)
    caught: dict = {"error": ""}
    try:
        yield caught
    except ParityError as exc:
        caught["error"] = str(exc)
    finally:
        del RECORDS[start:]
    if not caught["error"]:
        raise AssertionError(
            "expected a ParityError (a mismatch between MXNet and PyTorch), but everything matched"
        )


# --------------------------------------------------------------------------------------------
# pairing parameters by structure
# --------------------------------------------------------------------------------------------

_NORM_TYPES = (
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "SyncBatchNorm",
)
_KIND_WORDS = {
    "weight": "a weight",
    "bias": "a bias",
    "gamma": "a normalization scale (gamma)",
    "beta": "a normalization shift (beta)",
    "running_mean": "a running mean",
    "running_var": "a running variance",
    "alpha": "a PReLU slope",
}


def _mx_kind(name: str) -> str:
    if m := re.search(r"(?:^|_)([lr]\d+)_(i2h|h2h)_(weight|bias)$", name):
        return f"{m.group(1)}_{m.group(2)}_{m.group(3)}"
    if m := re.search(r"(?:^|_)(i2h|h2h)_(weight|bias)$", name):
        return f"{m.group(1)}_{m.group(2)}"
    for suffix in ("running_mean", "running_var"):
        if name.endswith(suffix):
            return suffix
    if name.endswith("moving_mean"):
        return "running_mean"
    if name.endswith("moving_var"):
        return "running_var"
    for suffix in ("gamma", "beta", "weight", "bias", "alpha"):
        if name.endswith(suffix):
            return suffix
    return "other"


def _torch_kind(local: str, module: Any) -> str:
    if m := re.fullmatch(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?", local):
        side = "r" if m.group(4) else "l"
        return f"{side}{m.group(3)}_{'i2h' if m.group(2) == 'ih' else 'h2h'}_{m.group(1)}"
    if m := re.fullmatch(r"(weight|bias)_(ih|hh)", local):
        return f"{'i2h' if m.group(2) == 'ih' else 'h2h'}_{m.group(1)}"
    kind_name = type(module).__name__
    if kind_name in _NORM_TYPES and local in ("weight", "bias"):
        return "gamma" if local == "weight" else "beta"
    if kind_name == "PReLU" and local == "weight":
        return "alpha"
    if local in ("weight", "bias", "running_mean", "running_var"):
        return local
    return "other"


def _describe(kind: str) -> str:
    if m := re.fullmatch(r"([lr])?(\d+)?_?(i2h|h2h)_(weight|bias)", kind):
        where = (
            f" of layer {m.group(2)}{' (reverse direction)' if m.group(1) == 'r' else ''}"
            if m.group(2)
            else ""
        )
        side = "input" if m.group(3) == "i2h" else "hidden"
        return f"a recurrent {side}-to-hidden {m.group(4)}{where}"
    return _KIND_WORDS.get(kind, "a parameter")


@dataclass
class _Pair:
    mx_name: str
    mx_param: Any
    torch_name: str
    torch_module: Any
    torch_local: str
    kind: str
    trainable: bool

    @property
    def torch_tensor(self) -> Any:
        t = self.torch_module._parameters.get(self.torch_local)
        return t if t is not None else self.torch_module._buffers[self.torch_local]


def _torch_slots(torch_module: Any) -> list[tuple[str, Any, str, str, bool]]:
    """(qualified name, module, local name, kind, is parameter) in registration order."""
    slots = []
    for prefix, mod in torch_module.named_modules():
        for local, p in mod._parameters.items():
            if p is not None:
                slots.append(
                    (
                        f"{prefix}.{local}" if prefix else local,
                        mod,
                        local,
                        _torch_kind(local, mod),
                        True,
                    )
                )
        for local, b in mod._buffers.items():
            if b is not None and local in ("running_mean", "running_var"):
                slots.append((f"{prefix}.{local}" if prefix else local, mod, local, local, False))
    return slots


def _shape_of(param: Any) -> tuple:
    return tuple(int(s) for s in param.shape)


def _pair_params(mx_block: Any, torch_module: Any) -> list[_Pair]:
    import torch

    mx_params = list(mx_block.collect_params().items())
    slots = _torch_slots(torch_module)
    pairs: list[_Pair] = []
    for i, (mx_name, p) in enumerate(mx_params):
        if p._data is None:
            raise ValueError(
                f"MXNet parameter {mx_name!r} has no value yet (not initialized, or its shape is "
                "deferred): "
                "call net.initialize() and run the block once on an input before copying"
            )
        mx_kind = _mx_kind(mx_name)
        mx_shape = _shape_of(p)
        if i >= len(slots):
            raise ParityError(
                f"parameter #{i} in registration order: MXNet {mx_name!r} ({_describe(mx_kind)}, "
                f"shape {mx_shape}) "
                f"has no PyTorch counterpart: the PyTorch module has only {len(slots)} parameters "
                "and running "
                "statistics (a layer missing in the port?)"
            )
        t_name, mod, local, t_kind, is_param = slots[i]
        t = mod._parameters[local] if is_param else mod._buffers[local]
        if isinstance(t, torch.nn.parameter.UninitializedParameter):
            raise ValueError(
                f"PyTorch parameter {t_name!r} is uninitialized (a lazy module): "
                "run the module once first"
            )
        t_shape = tuple(t.shape)
        where = (
            f"parameter #{i} in registration order: MXNet {mx_name!r} ({_describe(mx_kind)}, shape "
            f"{mx_shape}) "
            f"vs PyTorch {t_name!r} ({_describe(t_kind)} of {type(mod).__name__}, shape {t_shape})"
        )
        if mx_kind != "other" and t_kind != "other" and mx_kind != t_kind:
            raise ParityError(
                f"{where}: different kinds of parameter, the two structures differ here "
                "(a layer missing, extra or in a different order?)"
            )
        if mx_shape != t_shape:
            raise ParityError(f"{where}: shapes differ")
        pairs.append(
            _Pair(
                mx_name,
                p,
                t_name,
                mod,
                local,
                t_kind if t_kind != "other" else mx_kind,
                is_param and p.grad_req != "null",
            )
        )
    if len(slots) > len(mx_params):
        t_name, mod, _, t_kind, _ = slots[len(mx_params)]
        raise ParityError(
            f"parameter #{len(mx_params)} in registration order: PyTorch {t_name!r} "
            f"({_describe(t_kind)} of "
            f"{type(mod).__name__}) has no MXNet counterpart: the MXNet block has only "
            f"{len(mx_params)} "
            "parameters (an extra layer in the port?)"
        )
    return pairs


def copy_params(mx_block: Any, torch_module: Any) -> list[tuple[str, str]]:
    """Copy MXNet parameters (and BatchNorm running statistics) into the PyTorch port, by structure.

    Parameters are paired in registration order: Gluon ``collect_params()`` order vs PyTorch's
    modules in ``named_modules()`` order, each with its parameters and then its ``running_mean``
    and ``running_var`` buffers (``num_batches_tracked`` and other buffers are not copied).
    Parameter-free layers (activations, pooling, dropout, flatten) need no counterpart, so a Gluon
    ``Dense(activation='relu')`` pairs with ``nn.Linear`` + ``nn.ReLU``. Each pair must agree in
    kind (weight/bias/gamma/beta/running stats/RNN ``l{i}_i2h_weight`` <-> ``weight_ih_l{i}``)
    and shape; the first that does not raises [`ParityError`][] naming both sides.
    The MXNet block must be initialized with known shapes (run it once on an input).
    Returns the ``(mxnet_name, torch_name)`` pairs.

    ```python
    import torch
    from mxnet import gluon, nd
    from companion.parity import copy_params

    mx_net = gluon.nn.Dense(2, in_units=3)
    mx_net.initialize()
    torch_net = torch.nn.Linear(3, 2)
    pairs = copy_params(mx_net, torch_net)
    assert [t for _, t in pairs] == ["weight", "bias"]
    assert (torch_net.weight.detach().numpy() == mx_net.weight.data().asnumpy()).all()
    ```
    """
    import mxnet
    import torch

    # Let MXNet's asynchronous engine finish every pending write first: reading a weight while
    # a forward that initialised it is still queued was seen to copy half-written values.
    mxnet.nd.waitall()
    pairs = _pair_params(mx_block, torch_module)
    with torch.no_grad():
        for pair in pairs:
            t = pair.torch_tensor
            t.copy_(torch.as_tensor(pair.mx_param.data().asnumpy()).to(t.dtype))
    return [(p.mx_name, p.torch_name) for p in pairs]


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


@dataclass
class ParityResult:
    """What [`compare`][] checked: one record per compared tensor (the report's rows).

    ```python
    import numpy as np
    import torch
    from mxnet import gluon
    from companion.parity import ParityResult, compare

    mx_net = gluon.nn.Dense(2, in_units=3)
    mx_net.initialize()
    result = compare("dense", mx_net, torch.nn.Linear(3, 2), np.ones((4, 3)))
    assert isinstance(result, ParityResult) and result.passed
    assert str(result).splitlines()[:2] == ["dense: 4 comparisons, all within tolerance",
                                            "  output: ok (tol 1e-05)"]
    ```
    """

    name: str
    rows: list[dict] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r["passed"] for r in self.rows)

    @property
    def max_abs(self) -> float:
        return max((r["max_abs"] for r in self.rows), default=0.0)

    def __str__(self) -> str:
        """One line per comparison, without the (machine-dependent) differences themselves."""
        lines = [
            f"{self.name}: {len(self.rows)} comparisons, "
            f"{'all within tolerance' if self.passed else 'FAILED'}"
        ]
        lines += [
            f"  {r['what']}: {'ok' if r['passed'] else 'FAIL'} (tol {r['tolerance']:.0e})"
            for r in self.rows
        ]
        return "\n".join(lines)


def _ratio_hint(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str]:
    """If b is a constant multiple of a, return (factor, sentence)."""
    denom = float(np.sum(a * a))
    if a.size == 0 or denom == 0.0:
        return None, ""
    r = float(np.sum(a * b) / denom)
    resid = float(np.max(np.abs(b - r * a)))
    if abs(r - 1.0) < 1e-3 or resid > 1e-3 * float(np.max(np.abs(b))) + 1e-12:
        return None, ""
    if a.size == 1:
        return r, f"PyTorch = {r:.4g} x MXNet"
    return r, f"PyTorch = {r:.4g} x MXNet everywhere (a constant factor, not noise)"


def _record(
    result: ParityResult, what: str, mx_value: Any, torch_value: Any, tol: float, hint: str = ""
) -> None:
    a, b = to_numpy(mx_value), to_numpy(torch_value)
    if a.shape != b.shape and a.size == b.size:
        b = b.reshape(a.shape)
    if a.shape != b.shape:
        raise ParityError(
            f"{result.name}: {what}: shapes differ, MXNet {a.shape} vs PyTorch {b.shape}"
        )
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    eff = tol * max(1.0, scale)
    diff = np.abs(a - b)
    max_abs = float(np.max(diff)) if a.size else 0.0
    nan = bool(np.isnan(a).any() or np.isnan(b).any())
    passed = (max_abs <= eff) and not nan
    row = {
        "name": result.name,
        "what": what,
        "max_abs": max_abs if not nan else float("nan"),
        "max_rel": max_abs / scale if scale else 0.0,
        "tolerance": eff,
        "passed": passed,
    }
    RECORDS.append(row)
    result.rows.append(row)
    if passed:
        return
    msg = f"{result.name}: {what}: max abs difference {max_abs:.3g} exceeds tolerance {eff:.1e}"
    if nan:
        msg = f"{result.name}: {what}: NaN in {'MXNet' if np.isnan(a).any() else 'PyTorch'} values"
    factor, sentence = _ratio_hint(a, b)
    if sentence:
        msg += f"; {sentence}"
    if hint:
        msg += f". {hint}"
    if result.hints:
        msg += ". Possible causes found in the two models: " + "; ".join(result.hints)
    if factor is not None and what == "loss" and abs(factor - 2) < 1e-3:
        msg += (
            ". Gluon L2Loss is 1/2 (prediction - label)^2: the PyTorch port needs 0.5 * MSELoss, "
            "not MSELoss"
        )
    raise ParityError(msg)


def _flatten(out: Any) -> list:
    if isinstance(out, (list, tuple)):
        return [leaf for o in out for leaf in _flatten(o)]
    return [out]


def _is_softmax_ce(loss: Any) -> bool:
    if isinstance(loss, str):
        return loss == "softmax_ce"
    if isinstance(loss, (tuple, list)) and loss:
        return (
            "SoftmaxCrossEntropy" in type(loss[0]).__name__
            or "CrossEntropyLoss" == type(loss[-1]).__name__
        )
    return False


def _loss_pair(loss: Any) -> tuple[Callable, Callable]:
    """(mx_fn(out, y) -> per-sample NDArray or scalar, torch_fn(out, y) -> tensor)."""
    import torch.nn.functional as F
    from mxnet import gluon

    if isinstance(loss, str):
        if loss == "l2":
            # Gluon L2Loss: 1/2 squared error, averaged over the non-batch axes, per sample.
            return (
                gluon.loss.L2Loss(),
                lambda o, y: 0.5 * F.mse_loss(o, y.reshape(o.shape).to(o.dtype)),
            )
        if loss == "softmax_ce":
            return gluon.loss.SoftmaxCrossEntropyLoss(), lambda o, y: F.cross_entropy(
                o, y.reshape(-1).long()
            )
        if loss == "sigmoid_bce":
            return (
                gluon.loss.SigmoidBinaryCrossEntropyLoss(),
                lambda o, y: F.binary_cross_entropy_with_logits(o, y.reshape(o.shape).to(o.dtype)),
            )
        raise ValueError(
            f"loss must be one of {LOSSES} or a pair (mxnet_loss, torch_loss), got {loss!r}"
        )
    if isinstance(loss, (tuple, list)) and len(loss) == 2 and all(callable(f) for f in loss):
        return loss[0], loss[1]
    raise ValueError(
        f"loss must be one of {LOSSES} or a pair (mxnet_loss, torch_loss) of callables, got "
        f"{loss!r}"
    )


class _DropoutLink:
    """Draw each Gluon Dropout mask with MXNet (dropout applied to ones) and replay it in
    PyTorch."""

    def __init__(self, mx_block: Any, torch_module: Any):
        import torch
        from mxnet.gluon import nn as gnn

        self.mx_drops = [b for b in _mx_blocks(mx_block) if isinstance(b, gnn.Dropout)]
        self.torch_drops = [
            m for m in torch_module.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)
        ]
        if len(self.mx_drops) != len(self.torch_drops):
            raise ParityError(
                f"the MXNet block has {len(self.mx_drops)} Dropout layers and the PyTorch module "
                f"{len(self.torch_drops)}: the masks cannot be transferred (a dropout missing in "
                "the port?)"
            )
        for mb, tm in zip(self.mx_drops, self.torch_drops):
            if abs(mb._rate - tm.p) > 1e-12:
                raise ParityError(f"dropout rates differ: MXNet {mb._rate} vs PyTorch {tm.p}")
        self.queue: list = []
        self.handles: list = []
        self.hybrid_state: list = []

    def __enter__(self) -> _DropoutLink:
        from mxnet import autograd, nd

        queue = self.queue

        def make_forward(block):
            def forward(x, *args):
                if not autograd.is_training() or block._rate == 0:
                    return x
                mask = nd.Dropout(nd.ones_like(x), p=block._rate, axes=block._axes)
                queue.append(mask.asnumpy())
                return x * mask

            return forward

        for b in self.mx_drops:
            b.forward = make_forward(b)

        def hook(module, inputs, output):
            if not module.training:
                return output
            import torch

            if not queue:
                raise ParityError("PyTorch ran a Dropout layer that MXNet did not run in this pass")
            mask = torch.as_tensor(queue.pop(0)).to(inputs[0].dtype)
            return inputs[0] * mask

        self.handles = [m.register_forward_hook(hook) for m in self.torch_drops]
        return self

    def __exit__(self, *exc: Any) -> None:
        for b in self.mx_drops:
            b.__dict__.pop("forward", None)
        for h in self.handles:
            h.remove()


def _mx_blocks(block: Any) -> list:
    out = [block]
    for child in block._children.values():
        out += _mx_blocks(child)
    return out


@contextlib.contextmanager
def _imperative(mx_block: Any) -> Iterator[None]:
    """Switch hybridization off while comparing (the patched Dropout blocks must be called)."""
    active = [(b, b._active) for b in _mx_blocks(mx_block) if hasattr(b, "_active")]
    for b, _ in active:
        b._active = False
    try:
        yield
    finally:
        for b, state in active:
            b._active = state


class _BiasedRunningVar:
    """Make torch BatchNorm update ``running_var`` with the biased batch variance, as MXNet does.

    PyTorch updates the running variance with the unbiased (n - 1) estimate of the batch variance,
    MXNet with the biased (n) one; normalization itself uses the biased one in both. A port cannot
    change this with a constructor argument, so the harness converts PyTorch's update after each
    training-mode forward pass (using the port's own momentum, so a wrong momentum still shows).
    """

    def __init__(self, torch_module: Any):
        import torch

        self.mods = [
            m
            for m in torch_module.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats
        ]
        self.handles: list = []

    def __enter__(self) -> _BiasedRunningVar:
        import torch

        def pre(module, inputs):
            module._parity_old_var = module.running_var.detach().clone()

        def post(module, inputs, output):
            m = module.momentum
            if not module.training or m is None or m == 0:
                return
            n = inputs[0].numel() / inputs[0].shape[1]
            if n <= 1:
                return
            with torch.no_grad():
                old = module._parity_old_var
                batch_unbiased = (module.running_var - (1 - m) * old) / m
                # a new tensor, not an in-place change: autograd saved the old one for backward
                module._buffers["running_var"] = (1 - m) * old + m * batch_unbiased * (n - 1) / n

        for mod in self.mods:
            self.handles += [mod.register_forward_pre_hook(pre), mod.register_forward_hook(post)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for h in self.handles:
            h.remove()
        for mod in self.mods:
            mod.__dict__.pop("_parity_old_var", None)


def config_differences(mx_block: Any, torch_module: Any) -> list[str]:
    """Known hyperparameter mismatches between a Gluon block and its port (BatchNorm momentum and
    eps, RNN activation and layout, dropout rates), one sentence each; empty when none is found.

    ```python
    import torch
    from mxnet import gluon
    from companion.parity import config_differences

    mx_bn = gluon.nn.BatchNorm(in_channels=3)            # momentum 0.9
    torch_bn = torch.nn.BatchNorm1d(3, momentum=0.9)     # should be 1 - 0.9 = 0.1
    (problem,) = config_differences(mx_bn, torch_bn)
    assert "momentum" in problem
    ```
    """
    import torch
    from mxnet.gluon import Block
    from mxnet.gluon import nn as gnn
    from mxnet.gluon import rnn as grnn

    if not isinstance(mx_block, Block) or not isinstance(torch_module, torch.nn.Module):
        raise ValueError(
            f"expected a Gluon block and a torch.nn.Module, got "
            f"{type(mx_block).__name__} and {type(torch_module).__name__}"
        )
    blocks = _mx_blocks(mx_block)
    mods = list(torch_module.modules())
    found: list[str] = []
    mx_bn = [b for b in blocks if isinstance(b, gnn.BatchNorm)]
    t_bn = [m for m in mods if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for i, (b, m) in enumerate(zip(mx_bn, t_bn)):
        mom, eps = b._kwargs.get("momentum", 0.9), b._kwargs.get("eps", 1e-5)
        if m.momentum is None or abs(m.momentum - (1 - mom)) > 1e-9:
            found.append(
                f"BatchNorm #{i}: MXNet momentum {mom:g} is PyTorch momentum {1 - mom:g} "
                f"(PyTorch weighs the new batch by its momentum), but the port uses {m.momentum}"
            )
        if abs(m.eps - eps) > 1e-12:
            found.append(f"BatchNorm #{i}: eps {eps:g} in MXNet vs {m.eps:g} in PyTorch")
    mx_rnn = [b for b in blocks if isinstance(b, grnn.RNN)]
    t_rnn = [m for m in mods if type(m).__name__ == "RNN"]
    for i, (b, m) in enumerate(zip(mx_rnn, t_rnn)):
        act = "relu" if b._mode == "rnn_relu" else "tanh"
        if act != m.nonlinearity:
            found.append(
                f"RNN #{i}: activation {act} in MXNet (gluon rnn.RNN defaults to relu) vs "
                f"{m.nonlinearity} in PyTorch (nn.RNN defaults to tanh)"
            )
    mx_rec = [b for b in blocks if isinstance(b, (grnn.RNN, grnn.LSTM, grnn.GRU))]
    t_rec = [m for m in mods if isinstance(m, torch.nn.RNNBase)]
    for i, (b, m) in enumerate(zip(mx_rec, t_rec)):
        if (b._layout == "NTC") != bool(m.batch_first):
            found.append(
                f"recurrent layer #{i}: layout {b._layout} in MXNet vs batch_first={m.batch_first} "
                "in PyTorch (NTC <-> batch_first=True)"
            )
    return found


def _dtype_name(mx_block: Any, torch_module: Any) -> str:
    names = set()
    for p in list(mx_block.collect_params().values())[:1]:
        names.add(np.dtype(p.dtype).name)
    for p in list(torch_module.parameters())[:1]:
        names.add(str(p.dtype).replace("torch.", ""))
    if not names or names - {"float64"}:
        return "float32"
    return "float64"


def compare(
    name: str,
    mx_block: Any,
    torch_module: Any,
    x: Any,
    *,
    y: Any = None,
    loss: Any = None,
    train: bool = False,
    steps: int = 0,
    lr: float = 0.1,
    momentum: float = 0.0,
    wd: float = 0.0,
    tol: float | None = None,
    batch_size: int | None = None,
    allow_zero_grad: bool = False,
    grads: bool = True,
) -> ParityResult:
    """Copy the parameters, run both models on the same input and compare everything; record each
    row.

    Conventions:

    - ``x``: a numpy array (or a tuple of arrays for several inputs), batch on axis 0. Integer
      arrays go to PyTorch as int64 (embedding indices), float arrays in the models' dtype.
    - ``y``: labels, one row per sample. MXNet gets them as floats (as the book passes them);
      PyTorch gets integer arrays as int64 (class indices) and float arrays in the models' dtype,
      so pass float labels for a custom pair with ``BCEWithLogitsLoss`` or ``MSELoss``.
    - ``train``: MXNet runs inside ``autograd.record(train_mode=train)``, PyTorch in
      ``.train(train)`` (restored afterwards). A block without BatchNorm or Dropout computes the
      same function in both modes; MXNet then records in training mode, because MXNet 1.9's
      oneDNN max-pooling backward is wrong in predict mode (see the porting guide). In training
      mode every Gluon ``nn.Dropout`` mask is drawn by MXNet (dropout applied to ones) and
      applied by the matching ``nn.Dropout`` in PyTorch (dropout called functionally inside a
      custom forward, or between the layers of a multi-layer RNN, cannot be matched).
    - ``loss``: ``None`` (the sum of the outputs), one of ``"l2"`` (``L2Loss`` <-> ``0.5 *
      MSELoss``), ``"softmax_ce"`` (``SoftmaxCrossEntropyLoss`` <-> ``CrossEntropyLoss``, int64
      labels), ``"sigmoid_bce"`` (``SigmoidBinaryCrossEntropyLoss`` <-> ``BCEWithLogitsLoss``), or a
      pair ``(mx_loss, torch_loss)`` of callables ``(output, label)`` to test a port's own choice.
      The MXNet loss is used as the book does: ``l = loss(out, y); l.backward();
      trainer.step(batch_size)`` (a per-sample loss, summed by ``backward``); the PyTorch loss is
      reduced by its mean if it is not a scalar.
    - Compared, in order: every output (a torch module that returns ``(output, state)`` where the
      Gluon block returns only the output is compared on the output), the batch-mean loss, every
      parameter's gradient as the optimizer uses it (MXNet's summed gradient divided by the
      batch size, which is what ``trainer.step(batch_size)`` does, vs PyTorch's), the BatchNorm
      running statistics (updated in MXNet's backward pass; PyTorch's unbiased running-variance
      update is converted to MXNet's biased one), and with ``steps > 0`` every parameter and
      running statistic after ``steps`` SGD steps (``Trainer(..., 'sgd', {learning_rate, momentum,
      wd})`` vs ``torch.optim.SGD(lr, momentum, weight_decay)``). Step ``i`` uses mini-batch ``i``
      of ``batch_size`` samples (cycling; default: the whole ``x``).
    - ``tol``: default ``TOLERANCES`` for the models' dtype; the effective tolerance of a row
      is ``tol * max(1, max|MXNet value|)``.
    - ``grads=False`` skips the gradient rows (outputs, loss, statistics and trained parameters
      are still compared).
    - A loss whose every gradient is exactly zero in both frameworks raises (a port that matches
      but cannot learn, e.g. softmax cross-entropy over one output unit) unless
      ``allow_zero_grad``.

    Raises [`ParityError`][] at the first comparison over its tolerance, with a hint where the
    pattern of the difference points at a known porting mistake. Returns a [`ParityResult`][].

    ```python
    import numpy as np
    import torch
    from mxnet import gluon
    from companion.parity import compare

    mx_net = gluon.nn.Sequential()
    mx_net.add(gluon.nn.Dense(4, activation="relu"), gluon.nn.Dense(2))
    mx_net.initialize()
    torch_net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                    torch.nn.Linear(4, 2))
    x, y = np.random.default_rng(0).normal(size=(8, 3)), np.arange(8) % 2
    result = compare("mlp", mx_net, torch_net, x, y=y, loss="softmax_ce", steps=2)
    assert result.passed and [r["what"] for r in result.rows][:2] == ["output", "loss"]
    ```
    """
    import mxnet  # noqa: F401 (both frameworks must import before anything runs)
    import torch  # noqa: F401

    inputs, y, n_total, bs = _check_compare_args(x, y, loss, steps, batch_size)
    dtype = _dtype_name(mx_block, torch_module)
    run = _Run(
        name,
        mx_block,
        torch_module,
        inputs,
        y,
        dtype,
        bs,
        TOLERANCES[dtype] if tol is None else float(tol),
    )
    run.finish_deferred_init()
    result = ParityResult(name)
    result.pairs = copy_params(mx_block, torch_module)
    result.hints = config_differences(mx_block, torch_module) + _mode_hints(mx_block, train)
    run.pairs = _pair_params(mx_block, torch_module)
    run.mx_loss, run.torch_loss = _loss_pair(loss) if loss is not None else (None, None)
    was_training = torch_module.training
    torch_module.train(train)
    if steps and not run.trainable:
        raise ValueError(
            f"{name}: steps={steps} needs trainable parameters, but the block has none"
        )
    run.record_train = train or not _mode_layers(mx_block)
    try:
        with contextlib.ExitStack() as stack:
            link = _DropoutLink(mx_block, torch_module)
            if train and link.mx_drops:
                stack.enter_context(_imperative(mx_block))
                stack.enter_context(link)
            stack.enter_context(_BiasedRunningVar(torch_module))
            mx_out, mx_l, t_out, t_l = run.forward_backward(slice(0, bs))
            dropout_hint = "Dropout masks are matched only for nn.Dropout layers"
            _compare_outputs(
                result, run, mx_out, t_out, dropout_hint if train and link.mx_drops else ""
            )
            _compare_loss(result, run, mx_l, t_l)
            if grads:
                _compare_gradients(result, run, loss, mx_out, allow_zero_grad)
            _check_buffers(result, run.pairs, run.tol, "after the first pass")
            if steps:
                _compare_training(result, run, steps, lr, momentum, wd)
    finally:
        torch_module.train(was_training)
    return result


# The steps of compare(), in the order it runs them.


def _check_compare_args(
    x: Any, y: Any, loss: Any, steps: Any, batch_size: int | None
) -> tuple[tuple[np.ndarray, ...], np.ndarray | None, int, int]:
    """The inputs as numpy arrays, the labels, the number of samples and the batch size."""
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    inputs = tuple(np.asarray(v) for v in (x if isinstance(x, (tuple, list)) else (x,)))
    if not inputs or inputs[0].ndim == 0:
        raise ValueError(
            f"x must be an array with a batch axis, got shape {inputs[0].shape if inputs else ()}"
        )
    n_total = int(inputs[0].shape[0])
    if loss is not None and y is None:
        raise ValueError("a loss needs labels: pass y (a numpy array with one row per sample)")
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != n_total:
            raise ValueError(f"y must have {n_total} rows like x, got shape {y.shape}")
    bs = n_total if batch_size is None else int(batch_size)
    if not 1 <= bs <= n_total:
        raise ValueError(f"batch_size must be in [1, {n_total}], got {batch_size}")
    return inputs, y, n_total, bs


def _mode_layers(mx_block: Any) -> list:
    """The Gluon layers that compute differently in training and predict mode."""
    from mxnet import gluon

    return [
        b for b in _mx_blocks(mx_block) if isinstance(b, (gluon.nn.BatchNorm, gluon.nn.Dropout))
    ]


def _mode_hints(mx_block: Any, train: bool) -> list[str]:
    """Known MXNet 1.9 bugs that a comparison in predict mode runs into."""
    from mxnet import gluon

    if train:
        return []
    blocks = _mx_blocks(mx_block)
    hints = []
    if any(
        isinstance(b, gluon.nn.BatchNorm) and not b._kwargs.get("use_global_stats") for b in blocks
    ):
        hints.append(
            "MXNet 1.9 computes a wrong input gradient for a BatchNorm run in predict mode "
            "(record(train_mode=False)), so the gradients of the layers before it are wrong in "
            "MXNet (PyTorch's eval() gradients are right); use BatchNorm(use_global_stats=True) "
            "in Gluon, or compare(..., grads=False)"
        )
    # Without BatchNorm or Dropout, predict and training mode compute the same function; MXNet then
    # records in training mode (_Run.record_train), because its oneDNN max-pooling backward is wrong
    # in predict mode.
    if _mode_layers(mx_block) and any("MaxPool" in type(b).__name__ for b in blocks):
        hints.append(
            "MXNet 1.9 (oneDNN CPU build) routes max-pooling gradients to the wrong inputs when "
            "recorded in predict mode; compare with train=True"
        )
    return hints


class _Run:
    """The two models, their inputs and losses: one forward and backward pass of both."""

    def __init__(
        self,
        name: str,
        mx_block: Any,
        torch_module: Any,
        inputs: tuple,
        y: Any,
        dtype: str,
        bs: int,
        tol: float,
    ) -> None:
        import torch

        self.name, self.mx_block, self.torch_module = name, mx_block, torch_module
        self.inputs, self.y, self.bs, self.tol = inputs, y, bs, tol
        self.np_dtype, self.t_dtype = np.dtype(dtype), getattr(torch, dtype)
        self.pairs: list[_Pair] = []
        self.mx_loss: Callable | None = None
        self.torch_loss: Callable | None = None
        self.record_train = False

    @property
    def trainable(self) -> list[_Pair]:
        return [p for p in self.pairs if p.trainable]

    def mx_in(self, sl: slice) -> list:
        from mxnet import nd

        return [nd.array(v[sl], dtype=self.np_dtype) for v in self.inputs]

    def torch_in(self, sl: slice) -> list:
        import torch

        return [
            torch.as_tensor(v[sl]).long()
            if v.dtype.kind in "iu"
            else torch.as_tensor(v[sl]).to(self.t_dtype)
            for v in self.inputs
        ]

    def finish_deferred_init(self) -> None:
        """Finish Gluon's deferred initialization (predict mode, no backward: nothing updated)."""
        params = self.mx_block.collect_params().values()
        if any(p._data is None and p._deferred_init for p in params):
            self.mx_block(*self.mx_in(slice(0, self.bs)))

    def forward_backward(self, sl: slice) -> tuple:
        """Outputs and losses of both models on the samples ``sl``, gradients computed."""
        import torch
        from mxnet import autograd, nd

        with autograd.record(train_mode=self.record_train):
            mx_out = _flatten(self.mx_block(*self.mx_in(sl)))
            if self.mx_loss is None:
                mx_l = sum(o.sum() for o in mx_out)
            else:
                mx_l = self.mx_loss(mx_out[0], nd.array(self.y[sl], dtype=self.np_dtype))
        trainable = self.trainable
        if (
            trainable
        ):  # a block without parameters (e.g. dropout alone) has nothing to differentiate
            mx_l.backward()
        for p in self.torch_module.parameters():
            p.grad = None
        t_out = _flatten(self.torch_module(*self.torch_in(sl)))
        if len(t_out) != len(mx_out) and len(mx_out) == 1:
            t_out = t_out[:1]
        n = sl.stop - sl.start
        if self.mx_loss is None:
            t_l = sum(o.sum() for o in t_out) / n
        else:
            yt = torch.as_tensor(self.y[sl])
            integer = yt.dtype in (torch.int32, torch.int64, torch.uint8)
            yt = yt.long() if integer else yt.to(self.t_dtype)
            t_l = self.torch_loss(t_out[0], yt)
            if t_l.dim() > 0:
                t_l = t_l.mean()
        if trainable:
            t_l.backward()
        return mx_out, mx_l, t_out, t_l


def _compare_outputs(result: ParityResult, run: _Run, mx_out: list, t_out: list, hint: str) -> None:
    if len(t_out) != len(mx_out):
        raise ParityError(
            f"{run.name}: the MXNet block returns {len(mx_out)} arrays, "
            f"the PyTorch module {len(t_out)}"
        )
    for i, (a, b) in enumerate(zip(mx_out, t_out)):
        _record(result, "output" if len(mx_out) == 1 else f"output {i}", a, b, run.tol, hint)


def _compare_loss(result: ParityResult, run: _Run, mx_l: Any, t_l: Any) -> None:
    """The batch mean of MXNet's per-sample loss (or of the output sum) against PyTorch's."""
    mx_loss_value = mx_l.mean() if run.mx_loss is not None else mx_l / run.bs
    _record(result, "loss", mx_loss_value, t_l, run.tol)


def _compare_gradients(
    result: ParityResult, run: _Run, loss: Any, mx_out: list, allow_zero_grad: bool
) -> None:
    """Every parameter's gradient as the optimizer uses it: MXNet's summed gradient divided by
    the batch size (what ``trainer.step(batch_size)`` does) against PyTorch's."""
    bs, tol = run.bs, run.tol
    grad_rows = []
    for p in run.trainable:
        g_mx = p.mx_param.grad().asnumpy().astype(np.float64) / bs
        tg = p.torch_tensor.grad
        g_t = np.zeros(g_mx.shape) if tg is None else to_numpy(tg)
        grad_rows.append((p, g_mx, g_t))
    zero = all(
        float(np.max(np.abs(v), initial=0.0)) <= tol for _, gm, gt in grad_rows for v in (gm, gt)
    )
    if grad_rows and zero and not allow_zero_grad:
        out_units = mx_out[0].shape[-1] if len(mx_out[0].shape) > 1 else None
        why = (
            "every gradient is zero (within the tolerance) in both frameworks: the two agree, "
            "but neither model can learn"
        )
        if _is_softmax_ce(loss) and out_units == 1:
            why += (
                ". The output has one unit and softmax over a single logit is always 1, so the "
                "softmax cross-entropy is 0 for every sample; use two output units, or one unit "
                "with SigmoidBinaryCrossEntropyLoss <-> BCEWithLogitsLoss"
            )
        raise ParityError(f"{run.name}: {why} (pass allow_zero_grad=True if this is intended)")
    for p, g_mx, g_t in grad_rows:
        hint = ""
        factor, _ = _ratio_hint(g_mx, g_t)
        if factor is not None and (abs(factor - bs) < 1e-3 * bs or abs(factor * bs - 1) < 1e-3):
            hint = (
                f"The factor is the batch size {bs}: Trainer.step(batch_size) divides the "
                "gradient by batch_size, so the MXNet loss must be the per-sample loss "
                "(l.backward() sums it); l.mean().backward() followed by step(batch_size) divides "
                "the learning rate by the batch size"
            )
        _record(result, f"grad {p.torch_name}", g_mx, g_t, tol, hint)


def _compare_training(
    result: ParityResult, run: _Run, steps: int, lr: float, momentum: float, wd: float
) -> None:
    """``steps`` SGD steps in both frameworks (step ``i`` on mini-batch ``i``, cycling), then
    every parameter and running statistic."""
    import torch
    from mxnet import gluon

    trainer = gluon.Trainer(
        run.mx_block.collect_params(), "sgd", {"learning_rate": lr, "momentum": momentum, "wd": wd}
    )
    opt = torch.optim.SGD(run.torch_module.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    bs = run.bs
    n_batches = len(run.inputs[0]) // bs
    for step in range(steps):
        if step:
            b = step % n_batches
            run.forward_backward(slice(b * bs, (b + 1) * bs))
        trainer.step(bs)
        opt.step()
    for p in run.pairs:
        if p.trainable:
            _record(
                result,
                f"{p.torch_name} after {steps} steps",
                p.mx_param.data(),
                p.torch_tensor,
                run.tol,
            )
    _check_buffers(result, run.pairs, run.tol, f"after {steps} steps")


def _check_buffers(result: ParityResult, pairs: list[_Pair], tol: float, when: str) -> None:
    for p in pairs:
        if p.kind in ("running_mean", "running_var"):
            hint = (
                "Check the BatchNorm momentum: PyTorch's momentum is 1 - MXNet's (MXNet 0.9 <-> "
                "PyTorch 0.1), "
                "and the eps (1e-5 in both)"
            )
            _record(result, f"{p.torch_name} {when}", p.mx_param.data(), p.torch_tensor, tol, hint)
