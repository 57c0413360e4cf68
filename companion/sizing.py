"""Sizing of networks: parameter counts, memory, shapes, receptive fields, multiply-accumulates.

Everything is computed analytically from layer hyper-parameters, and each analytic quantity has
an empirical twin measured on a built PyTorch model, so a page can show both and assert they agree.

Parameters, shapes and memory:

```text
dense_params(1200, 100)                  # 120100  (weights 100*1200 + biases 100)
dense_shapes(1200, 100)                  # {'weight': (100, 1200), 'bias': (100,)}
conv_params(3, 10, 5)                    # 760     (10*3*5*5 + 10)
conv_shapes(3, 10, 5)                    # {'weight': (10, 3, 5, 5), 'bias': (10,)}
mlp_params([1200, 100, 50, 20])          # 126170, summed over the three Linear layers
memory(126170, bits=64)                  # Memory(bytes=1009360, ...): .mb (10^6), .mib (2^20)
count_params(torch_model)                # sum of p.numel() over trainable parameters
```

Receptive field (one spatial axis; square kernels):

```text
layers = [Conv(3, padding=1), Conv(3, padding=1), Pool(2)]
receptive_field(layers)                  # Field(size=6, jump=2, start=0.5)
receptive_field_trace(layers)            # one Field per layer
layers_from_sequential(nn_sequential)    # the Conv/Pool list read off a torch model
measure_receptive_field(nn_sequential, input_size=64, in_channels=3)
                                         # Measured(rows=(a, b), cols=(c, d), size=..., ...)
```

``Field.size`` is the number of input pixels one output pixel depends on, ``Field.jump`` the
distance in input pixels between neighbouring output pixels (the product of the strides), and
``Field.start`` the input coordinate of the centre of the field of output pixel 0 (negative
when padding puts it outside the image).

How the measurement works ([`measure_receptive_field`][]): a copy of the model is made in
float64; every convolution gets all weights equal to ``1/fan_in`` and zero bias, every
activation (ReLU, sigmoid, ...) and dropout is replaced by the identity, every max-pool by an
average pool with the same kernel, stride, padding and dilation, and the input is all ones.
Then every path from an input pixel to the output has a positive weight, so no gradient is
zeroed by a ReLU in its flat part, by the arg-max of a max-pool, or by cancellation, and the
input pixels with a nonzero gradient of one output pixel are exactly the pixels it depends on
in the original network (the support of the dependence is set by the geometry, not the weights).
``thin=True`` measures a one-channel copy with the same geometry, which is much faster for wide
networks; with positive weights every channel feeds every channel, so the support is the same.

Multiply-accumulates:

```text
conv_macs(3, 64, 3, out_size=224)        # 86704128: c_out * H_out * W_out * c_in * k * k
dense_macs(25088, 4096)                  # 102760448 per sample
count_macs(torch_model, (1, 3, 224, 224))  # measured with forward hooks on Conv/Linear
                                         # (free for a model built with device="meta")
```

Per-layer tables (parameters, MACs and output values per sample of every leaf layer):

```text
rows = layer_table(torch_model, (1, 1, 224, 224))     # forward hooks; meta device is free
rows = layer_table_gluon(gluon_net, (1, 1, 224, 224)) # shape inference, nothing computed
print(format_layer_table(rows))                       # with totals; output MB at float32
dominant(rows, "macs")                                # the row with the most MACs
```
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Conv",
    "Pool",
    "Field",
    "Measured",
    "Memory",
    "dense_params",
    "dense_shapes",
    "conv_params",
    "conv_shapes",
    "mlp_params",
    "memory",
    "count_params",
    "param_shapes",
    "conv_output_size",
    "receptive_field",
    "receptive_field_trace",
    "layers_from_sequential",
    "measure_receptive_field",
    "conv_macs",
    "dense_macs",
    "count_macs",
    "LayerRow",
    "layer_table",
    "layer_table_gluon",
    "format_layer_table",
    "dominant",
]


# ---------------------------------------------------------------- validation helpers


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return value


def _nonneg_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int (>= 0), got {value}")
    return value


def _pair(name: str, value: Any) -> tuple[int, int]:
    """An int or a pair of ints, as (height, width), each positive."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return _positive_int(name, value[0]), _positive_int(name, value[1])
    v = _positive_int(name, value)
    return v, v


# ---------------------------------------------------------------- parameters and shapes


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``n_out * n_in`` weights plus ``n_out`` biases.

    ```python
    from companion.sizing import dense_params

    assert dense_params(1200, 100) == 120_100          # 100 * 1200 weights + 100 biases
    assert dense_params(1200, 100, bias=False) == 120_000
    ```
    """
    _positive_int("n_in", n_in)
    _positive_int("n_out", n_out)
    return n_out * n_in + (n_out if bias else 0)


def dense_shapes(n_in: int, n_out: int, bias: bool = True) -> dict[str, tuple[int, ...]]:
    """Shapes of a fully connected layer's parameters, PyTorch/Gluon layout: weight ``(n_out,
    n_in)``.

    ```python
    from companion.sizing import dense_shapes

    assert dense_shapes(1200, 100) == {"weight": (100, 1200), "bias": (100,)}
    ```
    """
    _positive_int("n_in", n_in)
    _positive_int("n_out", n_out)
    shapes: dict[str, tuple[int, ...]] = {"weight": (n_out, n_in)}
    if bias:
        shapes["bias"] = (n_out,)
    return shapes


def conv_params(
    c_in: int, c_out: int, kernel: int | tuple[int, int], bias: bool = True, groups: int = 1
) -> int:
    """Parameters of a 2-D convolution: ``c_out * (c_in/groups) * kh * kw`` weights plus ``c_out``
    biases.

    ```python
    from companion.sizing import conv_params

    assert conv_params(3, 10, 5) == 760                 # 10 * 3 * 5 * 5 + 10
    assert conv_params(4, 8, 3, groups=2) == 8 * 2 * 9 + 8
    ```
    """
    shape = conv_shapes(c_in, c_out, kernel, bias=bias, groups=groups)
    total = 0
    for s in shape.values():
        n = 1
        for d in s:
            n *= d
        total += n
    return total


def conv_shapes(
    c_in: int, c_out: int, kernel: int | tuple[int, int], bias: bool = True, groups: int = 1
) -> dict[str, tuple[int, ...]]:
    """Shapes of a 2-D convolution's parameters: weight ``(c_out, c_in/groups, kh, kw)``, bias
    ``(c_out,)``.

    ```python
    from companion.sizing import conv_shapes

    assert conv_shapes(3, 10, (5, 3)) == {"weight": (10, 3, 5, 3), "bias": (10,)}
    ```
    """
    _positive_int("c_in", c_in)
    _positive_int("c_out", c_out)
    _positive_int("groups", groups)
    kh, kw = _pair("kernel", kernel)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"c_in and c_out must be divisible by groups={groups}, got c_in={c_in}, c_out={c_out}"
        )
    shapes: dict[str, tuple[int, ...]] = {"weight": (c_out, c_in // groups, kh, kw)}
    if bias:
        shapes["bias"] = (c_out,)
    return shapes


def mlp_params(sizes: Sequence[int], bias: bool = True) -> int:
    """Parameters of an MLP with layer widths ``sizes = [n_in, h1, ..., n_out]`` (fully connected,
    biases).

    ```python
    from companion.sizing import mlp_params

    assert mlp_params([1200, 100, 50, 20]) == 126_170
    ```
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes!r}")
    return sum(dense_params(a, b, bias) for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class Memory:
    """A size in bytes, with its value in MB (10^6 bytes) and MiB (2^20 bytes).

    ```python
    from companion.sizing import Memory

    m = Memory(2**20)
    assert m.mib == 1.0 and m.mb == 1.048576
    assert str(m) == "1,048,576 bytes = 1.05 MB = 1.00 MiB"
    ```
    """

    bytes: int

    def __post_init__(self) -> None:
        _nonneg_int("Memory bytes", self.bytes)

    @property
    def mb(self) -> float:
        return self.bytes / 10**6

    @property
    def mib(self) -> float:
        return self.bytes / 2**20

    def __str__(self) -> str:
        return f"{self.bytes:,} bytes = {self.mb:.2f} MB = {self.mib:.2f} MiB"


def memory(n_params: int, bits: int = 32) -> Memory:
    """Memory taken by ``n_params`` numbers of ``bits`` bits each (8, 16, 32 or 64).

    ```python
    from companion.sizing import memory

    assert memory(126_170, bits=64).bytes == 1_009_360
    assert round(memory(1_000_000).mib, 3) == 3.815      # float32
    ```
    """
    _nonneg_int("n_params", n_params)
    if bits not in (8, 16, 32, 64):
        raise ValueError(f"bits must be one of 8, 16, 32, 64, got {bits!r}")
    return Memory(n_params * bits // 8)


def count_params(model: Any, trainable_only: bool = True) -> int:
    """Sum of ``p.numel()`` over a torch module's parameters (only those with ``requires_grad`` by
    default).

    ```python
    from torch import nn
    from companion.sizing import count_params, mlp_params

    net = nn.Sequential(nn.Linear(1200, 100), nn.ReLU(), nn.Linear(100, 20))
    assert count_params(net) == mlp_params([1200, 100, 20]) == 122_120
    ```
    """
    if not hasattr(model, "parameters"):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def param_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of a torch module's parameters, in registration order.

    ```python
    from torch import nn
    from companion.sizing import param_shapes

    assert param_shapes(nn.Linear(3, 2)) == {"weight": (2, 3), "bias": (2,)}
    ```
    """
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


# ---------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class Conv:
    """A convolution's geometry along one axis (square kernels): kernel, stride, padding, dilation.

    ```python
    from companion.sizing import Conv, receptive_field

    assert receptive_field([Conv(3, padding=1), Conv(3, stride=2)]).size == 5
    ```
    """

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self) -> None:
        _positive_int("Conv kernel", self.kernel)
        _positive_int("Conv stride", self.stride)
        _nonneg_int("Conv padding", self.padding)
        _positive_int("Conv dilation", self.dilation)


@dataclass(frozen=True)
class Pool:
    """A pooling layer's geometry (max or average: the same field); ``stride=None`` means stride =
    kernel.

    ```python
    from companion.sizing import Pool, receptive_field

    assert Pool(2).stride is None                        # stride = kernel
    assert receptive_field([Pool(2), Pool(2)]).jump == 4
    ```
    """

    kernel: int
    stride: int | None = None
    padding: int = 0
    dilation: int = 1

    def __post_init__(self) -> None:
        _positive_int("Pool kernel", self.kernel)
        if self.stride is not None:
            _positive_int("Pool stride", self.stride)
        _nonneg_int("Pool padding", self.padding)
        _positive_int("Pool dilation", self.dilation)


def _geometry(layer: Any) -> tuple[int, int, int, int]:
    if isinstance(layer, Conv):
        return layer.kernel, layer.stride, layer.padding, layer.dilation
    if isinstance(layer, Pool):
        return (
            layer.kernel,
            layer.kernel if layer.stride is None else layer.stride,
            layer.padding,
            layer.dilation,
        )
    raise TypeError(
        f"layers must be Conv or Pool (from companion.sizing), got {type(layer).__name__}"
    )


@dataclass(frozen=True)
class Field:
    """Receptive field after a layer: size (input pixels), jump (product of strides), start (centre
    of output 0).

    ```python
    from companion.sizing import Conv, Field, receptive_field

    assert receptive_field([Conv(3), Conv(3)]) == Field(size=5, jump=1, start=2.0)
    ```
    """

    size: int
    jump: int
    start: float


def receptive_field_trace(layers: Iterable[Conv | Pool]) -> list[Field]:
    """The receptive field after each layer of a stack, computed with the recurrences

    ``size += (dilation*(kernel-1)) * jump``, ``start += (dilation*(kernel-1)/2 - padding) * jump``,
    ``jump *= stride`` (sizes and jumps in input pixels).

    ```python
    from companion.sizing import Conv, Pool, receptive_field_trace

    trace = receptive_field_trace([Conv(3, padding=1), Conv(3, padding=1), Pool(2)])
    assert [f.size for f in trace] == [3, 5, 6] and trace[-1].jump == 2
    ```
    """
    size, jump, start = 1, 1, 0.0
    trace = []
    for layer in layers:
        k, s, p, d = _geometry(layer)
        span = d * (k - 1)
        size += span * jump
        start += (span / 2 - p) * jump
        jump *= s
        trace.append(Field(size, jump, start))
    return trace


def receptive_field(layers: Iterable[Conv | Pool]) -> Field:
    """Receptive field of one output pixel of a stack of [`Conv`][] / [`Pool`][] layers.

    ```python
    from companion.sizing import Conv, Field, Pool, receptive_field

    layers = [Conv(3, padding=1), Conv(3, padding=1), Pool(2)]
    assert receptive_field(layers) == Field(size=6, jump=2, start=0.5)
    ```
    """
    trace = receptive_field_trace(layers)
    return trace[-1] if trace else Field(1, 1, 0.0)


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length along one axis: ``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride)
    + 1``.

    ```python
    from companion.sizing import conv_output_size

    assert conv_output_size(224, kernel=11, stride=4, padding=2) == 55   # AlexNet's first layer
    assert conv_output_size(28, kernel=5, padding=2) == 28
    ```
    """
    _positive_int("size", size)
    Conv(kernel, stride, padding, dilation)  # validates
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(
            f"input of size {size} is too small for kernel {kernel} (dilation {dilation}, padding "
            f"{padding})"
        )
    return out


# layer types that do not change the spatial geometry (elementwise or per-channel)
_PASS_THROUGH = (
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "SELU",
    "CELU",
    "GELU",
    "SiLU",
    "Mish",
    "Sigmoid",
    "Tanh",
    "Hardtanh",
    "Hardswish",
    "Hardsigmoid",
    "Softplus",
    "Identity",
    "Dropout",
    "Dropout2d",
    "Dropout1d",
    "BatchNorm1d",
    "BatchNorm2d",
    "LocalResponseNorm",
)


def _square(name: str, value: Any, module: Any) -> int:
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(
                f"{type(module).__name__}: {name} must be the same along every axis, got "
                f"{tuple(value)}"
            )
        value = value[0]
    if isinstance(value, str):
        raise ValueError(f"{type(module).__name__}: {name} must be an int, got {value!r}")
    return int(value)


def _torch_geometry(module: Any, names: tuple[str, ...]) -> list[int]:
    """The named geometry attributes of a torch conv/pool layer, each one int (square)."""
    if getattr(module, "ceil_mode", False):
        raise ValueError(f"{module}: ceil_mode=True is not supported")
    return [_square(name, getattr(module, name), module) for name in names]


def layers_from_sequential(model: Any) -> list[Conv | Pool]:
    """Read the [`Conv`][] / [`Pool`][] geometry off a torch ``nn.Sequential`` (nested ones too).

    Activations, dropout, batch norm and local response norm are skipped (they act per pixel);
    any other layer (Linear, Flatten, adaptive pooling, ...) raises TypeError.

    ```python
    from torch import nn
    from companion.sizing import Conv, Pool, layers_from_sequential

    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2))
    assert layers_from_sequential(net) == [Conv(5, 1, 2, 1), Pool(2, 2, 0, 1)]
    ```
    """
    import torch.nn as nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    layers: list[Conv | Pool] = []
    for m in model:
        if isinstance(m, nn.Sequential):
            layers.extend(layers_from_sequential(m))
        elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            layers.append(
                Conv(*_torch_geometry(m, ("kernel_size", "stride", "padding", "dilation")))
            )
        elif isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            layers.append(
                Pool(*_torch_geometry(m, ("kernel_size", "stride", "padding", "dilation")))
            )
        elif isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            layers.append(Pool(*_torch_geometry(m, ("kernel_size", "stride", "padding"))))
        elif type(m).__name__ in _PASS_THROUGH:
            continue
        else:
            raise TypeError(
                f"unsupported layer {type(m).__name__}: expected Conv1d/2d/3d, MaxPool/AvgPool, "
                f"an activation, dropout or batch norm (cut the model before Flatten/Linear)"
            )
    return layers


@dataclass(frozen=True)
class Measured:
    """Input pixels (inclusive index ranges) with a nonzero gradient of one output pixel.

    ```python
    from torch import nn
    from companion.sizing import measure_receptive_field

    m = measure_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), input_size=9)
    assert m.rows == (3, 5) and m.size == 3 and not m.clipped
    ```
    """

    rows: tuple[int, int]
    cols: tuple[int, int]
    output_pixel: tuple[int, int]
    clipped: bool  # True when the field touches the input border (it may extend beyond it)

    @property
    def size(self) -> int:
        """Side length of the measured field (rows; equal to cols for square fields)."""
        return self.rows[1] - self.rows[0] + 1


def _positive_surrogate(model: Any, thin: bool) -> Any:
    """The float64 copy used for the measurement (see the module docstring)."""
    import torch
    import torch.nn as nn

    if thin:
        mods: list[nn.Module] = []
        for layer in layers_from_sequential(model):
            k, s, p, d = _geometry(layer)
            if isinstance(layer, Conv):
                mods.append(nn.Conv2d(1, 1, k, s, p, d, bias=False))
            else:
                mods.append(nn.AvgPool2d(k, s, p))
        surrogate = nn.Sequential(*mods)
    else:
        surrogate = copy.deepcopy(model)
    if any(
        isinstance(layer, Pool) and layer.dilation != 1 for layer in layers_from_sequential(model)
    ):
        raise ValueError(
            "measuring a dilated max-pool is not supported (its average-pool twin does not exist)"
        )

    def convert(seq: nn.Sequential) -> None:
        for i, m in enumerate(seq):
            if isinstance(m, nn.Sequential):
                convert(m)
            elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                with torch.no_grad():
                    m.weight.fill_(1.0 / m.weight[0].numel())
                    if m.bias is not None:
                        m.bias.zero_()
            elif isinstance(m, nn.MaxPool2d) and m.dilation in (1, (1, 1)):
                seq[i] = nn.AvgPool2d(m.kernel_size, m.stride, m.padding)
            elif isinstance(m, nn.MaxPool1d) and m.dilation in (1, (1,)):
                seq[i] = nn.AvgPool1d(m.kernel_size, m.stride, m.padding)
            elif type(m).__name__ in _PASS_THROUGH:
                seq[i] = nn.Identity()

    convert(surrogate)
    return surrogate.double().eval()


def measure_receptive_field(
    model: Any,
    input_size: int,
    in_channels: int | None = None,
    output_pixel: tuple[int, int] | None = None,
    thin: bool = False,
) -> Measured:
    """Measure the receptive field of one output pixel of a 2-D conv/pool ``nn.Sequential`` by
    autograd.

    ``input_size`` is the side of the square input; ``in_channels`` defaults to the first
    convolution's; ``output_pixel`` defaults to the centre of the output map. The gradient of
    that output pixel (summed over output channels) w.r.t. the input is taken on a positive
    surrogate of the model (see the module docstring) and its nonzero support is returned.

    ```python
    from torch import nn
    from companion.sizing import layers_from_sequential, measure_receptive_field
    from companion.sizing import receptive_field

    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 8, 3, padding=1))
    measured = measure_receptive_field(net, input_size=32)
    assert measured.size == receptive_field(layers_from_sequential(net)).size == 8
    ```
    """
    import torch
    import torch.nn as nn

    _positive_int("input_size", input_size)
    if thin:
        in_channels = 1
    elif in_channels is None:
        first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        if first is None:
            raise ValueError("in_channels is required when the model has no Conv2d layer")
        in_channels = first.in_channels
    _positive_int("in_channels", in_channels)
    surrogate = _positive_surrogate(model, thin)
    x = torch.ones(1, in_channels, input_size, input_size, dtype=torch.float64, requires_grad=True)
    y = surrogate(x)
    if y.dim() != 4:
        raise ValueError(
            f"the model must map (N, C, H, W) to (N, C, H, W), got output shape {tuple(y.shape)}"
        )
    h, w = y.shape[2], y.shape[3]
    if output_pixel is None:
        output_pixel = (h // 2, w // 2)
    r, c = output_pixel
    if not (0 <= r < h and 0 <= c < w):
        raise ValueError(f"output_pixel must lie in the {h}x{w} output map, got {output_pixel}")
    y[0, :, r, c].sum().backward()
    support = (x.grad[0] != 0).any(dim=0)
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if rows.numel() == 0:
        raise ValueError("no input pixel has a nonzero gradient; is the model a conv/pool stack?")
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    clipped = r0 == 0 or c0 == 0 or r1 == input_size - 1 or c1 == input_size - 1
    return Measured((r0, r1), (c0, c1), (int(r), int(c)), clipped)


# ---------------------------------------------------------------- multiply-accumulates


def conv_macs(
    c_in: int,
    c_out: int,
    kernel: int | tuple[int, int],
    out_size: int | tuple[int, int],
    groups: int = 1,
) -> int:
    """Multiply-accumulates of one 2-D convolution on one sample:
    ``c_out*H_out*W_out*(c_in/groups)*kh*kw``.

    ```python
    from companion.sizing import conv_macs

    assert conv_macs(3, 64, 3, out_size=224) == 86_704_128     # 64 * 224 * 224 * 3 * 3 * 3
    ```
    """
    w = conv_shapes(c_in, c_out, kernel, bias=False, groups=groups)["weight"]
    oh, ow = _pair("out_size", out_size)
    return w[0] * w[1] * w[2] * w[3] * oh * ow


def dense_macs(n_in: int, n_out: int) -> int:
    """Multiply-accumulates of a fully connected layer on one sample: ``n_in * n_out``.

    ```python
    from companion.sizing import dense_macs

    assert dense_macs(25088, 4096) == 102_760_448
    ```
    """
    _positive_int("n_in", n_in)
    _positive_int("n_out", n_out)
    return n_in * n_out


def _forward_zeros(model: Any, shape: tuple[int, ...], handles: list) -> None:
    """Run ``model`` once on zeros of ``shape`` (on its device), then remove the hooks."""
    import torch

    try:
        with torch.no_grad():
            first = next(model.parameters(), None)
            model(torch.zeros(shape, device=first.device if first is not None else "cpu"))
    finally:
        for h in handles:
            h.remove()


def count_macs(model: Any, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of the Conv2d and Linear layers of a torch model for one forward pass.

    Measured with forward hooks on an input of ``input_shape`` (batch included); the total is
    divided by the batch size, i.e. per sample. The input is created on the device of the
    model's first parameter, so a model built on the ``meta`` device is counted without
    computing anything.

    ```python
    from torch import nn
    from companion.sizing import conv_macs, count_macs, dense_macs

    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
    expected = conv_macs(1, 4, 3, out_size=8) + dense_macs(256, 10)
    assert count_macs(net, (2, 1, 8, 8)) == expected == 4_864       # per sample
    ```
    """
    import torch
    import torch.nn as nn

    shape = tuple(input_shape)
    if len(shape) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"input_shape must be positive ints (N, ...), got {input_shape!r}")
    total = 0

    def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            total += output.numel() * module.weight[0].numel()
        else:
            total += output.numel() * module.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    _forward_zeros(model, shape, handles)
    return total // shape[0]


# ---------------------------------------------------------------- per-layer tables


@dataclass(frozen=True)
class LayerRow:
    """One leaf layer of a model: its output shape per sample, parameters, MACs, output size.

    ``macs`` counts the multiply-accumulates of convolutions and fully connected layers (other
    layers count 0); ``activations`` is the number of output values per sample.

    ```python
    from torch import nn
    from companion.sizing import LayerRow, layer_table

    (row,) = layer_table(nn.Sequential(nn.Linear(3, 2)), (1, 3))
    assert row == LayerRow("0", "Linear", (2,), params=8, macs=6, activations=2)
    ```
    """

    name: str
    kind: str
    out_shape: tuple[int, ...]
    params: int
    macs: int
    activations: int


def _check_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if len(shape) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"input_shape must be positive ints (N, ...), got {input_shape!r}")
    return shape


def layer_table(model: Any, input_shape: Sequence[int]) -> list[LayerRow]:
    """Per-layer rows of a torch model, in call order, for one forward pass on ``input_shape``.

    Leaf modules (no children) are recorded by forward hooks; counts are per sample. A model on
    the ``meta`` device is tabulated without computing anything.

    ```python
    from torch import nn
    from companion.sizing import layer_table

    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    rows = layer_table(net, (1, 1, 8, 8))
    assert [r.kind for r in rows] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    assert rows[0].out_shape == (4, 6, 6) and rows[3].params == 1_450
    ```
    """
    import torch
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _check_input_shape(input_shape)
    n = shape[0]
    rows: list[LayerRow] = []

    def hook(name: str) -> Callable[..., None]:
        def record(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            params = sum(p.numel() for p in module.parameters(recurse=False))
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                macs = output.numel() // n * module.weight[0].numel()
            elif isinstance(module, nn.Linear):
                macs = output.numel() // n * module.in_features
            else:
                macs = 0
            rows.append(
                LayerRow(
                    name,
                    type(module).__name__,
                    tuple(output.shape[1:]),
                    params,
                    macs,
                    output.numel() // n,
                )
            )

        return record

    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook(name)) for name, m in leaves]
    _forward_zeros(model, shape, handles)
    return rows


def _gluon_leaves(block: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The layers of nested Gluon Sequentials; a Conv2D or Dense with a fused activation is one."""
    from mxnet.gluon import nn as mnn

    if not isinstance(block, (mnn.Sequential, mnn.HybridSequential)):
        return [(prefix or type(block).__name__, block)]
    leaves = []
    for i, child in enumerate(block._children.values()):
        leaves.extend(_gluon_leaves(child, f"{prefix}.{i}" if prefix else str(i)))
    return leaves


def layer_table_gluon(net: Any, input_shape: Sequence[int]) -> list[LayerRow]:
    """Per-layer rows of a Gluon ``nn.Sequential`` (nested ones too), per sample.

    Each layer is called on a symbol and its shapes are inferred (``infer_shape``), so nothing
    is computed and the net need not be initialized; the layers must be hybridizable (the
    book's Conv2D, Pool, Dense, Dropout, BatchNorm, Flatten are) and form a plain chain.
    Parameters are the trainable ones (BatchNorm running statistics are not counted, as in
    [`count_params`][]); Dense layers flatten their input, as in Gluon.

    ```python
    from mxnet.gluon import nn
    from companion.sizing import layer_table_gluon

    net = nn.Sequential()
    net.add(nn.Conv2D(4, 3, activation="relu"), nn.Dense(10))
    rows = layer_table_gluon(net, (1, 1, 8, 8))       # not initialized: shapes are inferred
    assert [r.out_shape for r in rows] == [(4, 6, 6), (10,)]
    assert [r.params for r in rows] == [40, 1_450]
    ```
    """
    import mxnet as mx
    from mxnet.gluon import nn as mnn

    if not isinstance(net, (mnn.Sequential, mnn.HybridSequential)):
        raise TypeError(f"net must be a Gluon nn.Sequential, got {type(net).__name__}")
    shape = _check_input_shape(input_shape)
    rows = []
    for name, leaf in _gluon_leaves(net):
        out = leaf(mx.sym.var("data"))
        arg_shapes, out_shapes, _ = out.infer_shape(data=shape)
        args = dict(zip(out.list_arguments(), arg_shapes))
        weights = [s for a, s in args.items() if a.endswith("_weight")]
        params = sum(math.prod(s) for a, s in args.items() if a != "data")
        shape = tuple(out_shapes[0])
        per_sample = math.prod(shape[1:])
        if isinstance(leaf, (mnn.Conv1D, mnn.Conv2D, mnn.Conv3D)):
            macs = per_sample * math.prod(weights[0][1:])
        elif isinstance(leaf, mnn.Dense):
            macs = per_sample * weights[0][1]
        else:
            macs = 0
        rows.append(LayerRow(name, type(leaf).__name__, shape[1:], params, macs, per_sample))
    return rows


def format_layer_table(rows: Sequence[LayerRow], bytes_per_value: int = 4) -> str:
    """A fixed-width table of the rows: shape, parameters, MACs, output memory (MB), and totals.

    ```python
    from torch import nn
    from companion.sizing import format_layer_table, layer_table

    rows = layer_table(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
                       (1, 784))
    assert format_layer_table(rows).splitlines()[-1].split()[:3] == ["total", "203,530",
                                                                     "203,264"]
    ```
    """
    if not rows:
        raise ValueError("expected at least one LayerRow, got none")
    if bytes_per_value not in (1, 2, 4, 8):
        raise ValueError(f"bytes_per_value must be one of 1, 2, 4, 8, got {bytes_per_value!r}")
    width = max(5, *(len(f"{r.name} {r.kind}") for r in rows))
    lines = [f"{'layer':<{width}}  {'output':>14}  {'params':>11}  {'MACs':>13}  {'out MB':>7}"]
    for r in rows:
        shape = "x".join(map(str, r.out_shape))
        lines.append(
            f"{r.name + ' ' + r.kind:<{width}}  {shape:>14}  {r.params:>11,}  "
            f"{r.macs:>13,}  {r.activations * bytes_per_value / 1e6:>7.3f}"
        )
    tot = (sum(r.params for r in rows), sum(r.macs for r in rows), sum(r.activations for r in rows))
    lines.append(
        f"{'total':<{width}}  {'':>14}  {tot[0]:>11,}  {tot[1]:>13,}  "
        f"{tot[2] * bytes_per_value / 1e6:>7.3f}"
    )
    return "\n".join(lines)


def dominant(rows: Sequence[LayerRow], what: str) -> LayerRow:
    """The row with the largest ``params``, ``macs`` or ``activations``.

    ```python
    from torch import nn
    from companion.sizing import dominant, layer_table

    rows = layer_table(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
                       (1, 784))
    assert dominant(rows, "params") == rows[0] and rows[0].params == 200_960
    assert dominant(rows, "macs").name == "0"
    assert dominant(rows[2:], "activations").name == "2"   # on a tie, the first row wins
    ```
    """
    if what not in ("params", "macs", "activations"):
        raise ValueError(f"what must be 'params', 'macs' or 'activations', got {what!r}")
    if not rows:
        raise ValueError("expected at least one LayerRow, got none")
    return max(rows, key=lambda r: getattr(r, what))
