"""Every count a page computes with ``companion.sizing``, cross-checked while the page runs.

While a page block runs, each call of ``count_params``, ``count_macs`` and ``layer_table`` on a
torch model is compared with torchinfo's summary of the same model (on the same input shape),
and each ``layer_table_gluon`` with MXNet's own shape inference over the whole network (its
``mx.viz.print_summary`` is not used: it miscounts a Dense layer after a convolution). A
disagreement raises ``AssertionError`` in the block. The checks leave the model's modes, its
state and the random streams as they were, so a page prints the same with or without them.

torchinfo counts one addition per bias value on top of the multiply-accumulates, and counts
the multiplications of normalisation layers; ``companion.sizing`` counts the weights' MACs of
convolutions and fully connected layers only, so only those layers are compared, bias adds off.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

CHECKS: Counter[str] = Counter()  # how many calls were cross-checked, by function
_active = False


def _device(model: Any) -> Any:
    first = next(model.parameters(), None)
    return first.device if first is not None else "cpu"


def torchinfo_summary(model: Any, input_shape: tuple[int, ...] | None) -> Any:
    """torchinfo's summary of ``model`` in eval mode, every module's mode restored after it and
    torch's random stream untouched (torchinfo fills its input with ``torch.rand``)."""
    import torch
    import torchinfo

    modes = {m: m.training for m in model.modules()}
    try:
        with torch.random.fork_rng(devices=[]):
            return torchinfo.summary(
                model, input_size=input_shape, device=_device(model), mode="eval", verbose=0
            )
    finally:
        for m, training in modes.items():
            m.training = training


def _weight_macs(layer_info: Any, batch: int, kinds: tuple[type, ...]) -> int | None:
    """torchinfo's MACs of one Conv/Linear call, per sample, bias additions taken off."""
    module = layer_info.module
    if not isinstance(module, kinds):
        return None
    out_per_sample = math.prod(layer_info.output_size) // batch
    bias_adds = out_per_sample if getattr(module, "bias", None) is not None else 0
    return layer_info.macs // batch - bias_adds


def _conv_linear(convs_1d_3d: bool) -> tuple[type, ...]:
    from torch import nn

    return (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear) if convs_1d_3d else (nn.Conv2d, nn.Linear)


def _leaves(summary: Any) -> list[Any]:
    return [li for li in summary.summary_list if li.is_leaf_layer]


def _agree(what: str, ours: Any, theirs: Any, by: str) -> None:
    if ours != theirs:
        raise AssertionError(
            f"companion.sizing.{what} gives {ours!r} but {by} gives {theirs!r} for the same "
            "model: one of them miscounts (pagerun.crosscheck)"
        )
    CHECKS[what] += 1


def check_count_params(result: int, model: Any, trainable_only: bool = True) -> None:
    if not hasattr(model, "modules"):
        return
    s = torchinfo_summary(model, None)
    _agree("count_params", result, s.trainable_params if trainable_only else s.total_params,
           "torchinfo")  # fmt: skip


def check_count_macs(result: int, model: Any, input_shape: Any) -> None:
    shape = tuple(input_shape)
    kinds = _conv_linear(convs_1d_3d=False)
    leaves = _leaves(torchinfo_summary(model, shape))
    theirs = sum(m for li in leaves if (m := _weight_macs(li, shape[0], kinds)) is not None)
    _agree("count_macs", result, theirs, "torchinfo")


def check_layer_table(rows: list, model: Any, input_shape: Any) -> None:
    shape = tuple(input_shape)
    kinds = _conv_linear(convs_1d_3d=True)
    leaves = _leaves(torchinfo_summary(model, shape))
    ours = [(r.kind, r.out_shape, r.params) for r in rows]
    theirs = [(li.class_name, tuple(li.output_size[1:]), li.num_params) for li in leaves]
    _agree("layer_table", ours, theirs, "torchinfo (kind, output shape, parameters per layer)")
    macs = [_weight_macs(li, shape[0], kinds) for li in leaves]
    _agree("layer_table", [r.macs for r, m in zip(rows, macs) if m is not None],
           [m for m in macs if m is not None], "torchinfo (MACs per layer)")  # fmt: skip


def check_layer_table_gluon(rows: list, net: Any, input_shape: Any) -> None:
    import mxnet as mx

    out = net(mx.sym.var("data"))
    arg_shapes, out_shapes, _ = out.infer_shape(data=tuple(input_shape))
    total = sum(math.prod(s) for a, s in zip(out.list_arguments(), arg_shapes) if a != "data")
    ours = (sum(r.params for r in rows), rows[-1].out_shape)
    theirs = (total, tuple(out_shapes[0][1:]))
    _agree("layer_table_gluon", ours, theirs, "MXNet's shape inference of the whole network")


def _checked(function: Callable, check: Callable) -> Callable:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if _active:
            check(result, *args, **kwargs)
        return result

    wrapper.__wrapped_by_crosscheck__ = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Wrap the four counting functions of ``companion.sizing`` (once per process); the
    wrappers check only inside :func:`active`."""
    from companion import sizing

    pairs = {
        "count_params": check_count_params,
        "count_macs": check_count_macs,
        "layer_table": check_layer_table,
        "layer_table_gluon": check_layer_table_gluon,
    }
    for name, check in pairs.items():
        function = getattr(sizing, name)
        if not getattr(function, "__wrapped_by_crosscheck__", False):
            setattr(sizing, name, _checked(function, check))


@contextlib.contextmanager
def active() -> Iterator[None]:
    """Cross-check the counts computed inside the ``with`` block."""
    global _active
    install()
    previous, _active = _active, True
    try:
        yield
    finally:
        _active = previous
