"""companion.sizing's counts cross-checked against torchinfo, a well-kept counting library, on the
book's networks of chapters 4 and 6 at the input sizes the pages use.

torchinfo's ``total_mult_adds`` also counts the addition of each bias (one per output value of a
layer with a bias); ``count_macs`` counts the multiply-accumulates of the weights only, so the
bias additions are taken off before comparing.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
from torch import nn  # noqa: E402

from companion import sizing  # noqa: E402


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10),
    )  # fmt: skip


def alexnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 96, 11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 10),
    )  # fmt: skip


def vgg11() -> nn.Module:
    layers, c_in = [], 1
    for convs, c_out in ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)):
        for _ in range(convs):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Linear(4096, 4096),
        nn.ReLU(), nn.Linear(4096, 10),
    )  # fmt: skip


def nin() -> nn.Module:
    def block(c_in, c_out, k, s, p):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, s, p), nn.ReLU(), nn.Conv2d(c_out, c_out, 1), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 1), nn.ReLU(),
        )  # fmt: skip

    return nn.Sequential(
        block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2), block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), block(384, 10, 3, 1, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )  # fmt: skip


def exam_mlp1() -> nn.Module:  # docs/exams/mlp-sizing.md, question 1
    return nn.Sequential(
        nn.Flatten(), nn.Linear(1200, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(),
        nn.Linear(50, 20),
    )  # fmt: skip


def exam_mlp2() -> nn.Module:  # docs/exams/mlp-sizing.md, question 2
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, 100), nn.ReLU(), nn.Linear(100, 1))


NETS = {
    "exam_mlp1": (exam_mlp1, (1, 3, 20, 20)),
    "exam_mlp2": (exam_mlp2, (1, 3, 64, 64)),
    "mlp": (mlp, (1, 1, 28, 28)),
    "lenet": (lenet, (1, 1, 28, 28)),
    "alexnet": (alexnet, (1, 1, 224, 224)),
    "vgg11": (vgg11, (1, 1, 224, 224)),
    "nin": (nin, (1, 1, 224, 224)),
}


def _bias_adds(net: nn.Module, shape: tuple[int, ...], device: str = "cpu") -> int:
    """One addition per output value of every layer with a bias (what torchinfo adds to MACs)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if getattr(module, "bias", None) is not None:
            total += output.numel() // shape[0]

    handles = [
        m.register_forward_hook(hook)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.no_grad():
        net(torch.zeros(shape, device=device))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("name", sorted(NETS))
def test_counts_agree_with_torchinfo(name):
    make, shape = NETS[name]
    torch.manual_seed(0)
    net = make().eval()
    summary = torchinfo.summary(net, input_size=shape, verbose=0)
    assert sizing.count_params(net) == summary.total_params == summary.trainable_params
    assert sizing.count_macs(net, shape) == summary.total_mult_adds - _bias_adds(net, shape)
    rows = sizing.layer_table(net, shape)
    assert sum(r.params for r in rows) == summary.total_params
    assert sum(r.macs for r in rows) == sizing.count_macs(net, shape)


def test_analytic_counts_agree_with_torchinfo():
    """The formulas (no model built) against torchinfo on one conv and one dense layer."""
    conv = nn.Conv2d(3, 64, 3, padding=1)
    s = torchinfo.summary(conv, input_size=(1, 3, 224, 224), verbose=0)
    assert sizing.conv_params(3, 64, 3) == s.total_params
    macs = sizing.conv_macs(3, 64, 3, out_size=224)
    assert macs + 64 * 224 * 224 == s.total_mult_adds
    dense = nn.Linear(25088, 4096)
    s = torchinfo.summary(dense, input_size=(1, 25088), verbose=0)
    assert sizing.dense_params(25088, 4096) == s.total_params
    assert sizing.dense_macs(25088, 4096) + 4096 == s.total_mult_adds
    assert math.prod(sizing.dense_shapes(25088, 4096)["weight"]) == dense.weight.numel()


# docs/exams/vgg16.md: the paper's configurations A to E, built on the meta device (shapes only)
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, ("C1", 256), "M", 512, 512, ("C1", 512), "M",
          512, 512, ("C1", 512), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}  # fmt: skip


def vgg_meta(cfg: list) -> nn.Module:
    layers, c = [], 3
    with torch.device("meta"):
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                k, out = (1, v[1]) if isinstance(v, tuple) else (3, v)
                layers += [nn.Conv2d(c, out, k, padding=k // 2), nn.ReLU()]
                c = out
        head = nn.Sequential(
            nn.Flatten(), nn.Linear(c * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000),
        )  # fmt: skip
    return nn.Sequential(nn.Sequential(*layers), head)


@pytest.mark.parametrize("name", sorted(VGG_CONFIGS))
def test_vgg_counts_agree_with_torchinfo_on_the_meta_device(name):
    net, shape = vgg_meta(VGG_CONFIGS[name]).eval(), (1, 3, 224, 224)
    summary = torchinfo.summary(net, input_size=shape, device="meta", verbose=0)
    assert sizing.count_params(net) == summary.total_params
    macs = sizing.count_macs(net, shape)
    assert macs == summary.total_mult_adds - _bias_adds(net, shape, device="meta")
    if name == "D":  # VGG16, as docs/exams/vgg16.md prints it
        assert summary.total_params == 138_357_544 and round(macs / 1e9, 2) == 15.47


def test_strided_conv_macs_agree_with_torchinfo():
    """docs/d2l/ch6/6-3-padding-strides.md: a 3x3 convolution 16 -> 16 on 64x64, padding 1."""
    for stride in (1, 2, 4):
        conv = nn.Conv2d(16, 16, 3, stride=stride, padding=1)
        s = torchinfo.summary(conv, input_size=(1, 16, 64, 64), verbose=0)
        out = sizing.conv_output_size(64, 3, stride, 1)
        assert sizing.conv_macs(16, 16, 3, out) + 16 * out * out == s.total_mult_adds


def test_batchnorm_params_agree_with_torchinfo():
    """docs/exams/batch-norm.md: batch norm over 100 units trains 2 x 100 parameters."""
    bn = nn.BatchNorm1d(100)
    s = torchinfo.summary(bn, input_size=(2, 100), verbose=0)
    assert sizing.count_params(bn) == s.trainable_params == 200
