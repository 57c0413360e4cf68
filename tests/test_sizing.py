"""Tests of companion.sizing: analytic counts against built torch models, receptive fields
against autograd."""

import pytest
import torch
import torch.nn as nn

from companion import sizing
from companion.sizing import Conv, Field, Pool


def test_dense_params_and_shapes_match_torch():
    layer = nn.Linear(1200, 100)
    assert sizing.dense_params(1200, 100) == 120100 == sizing.count_params(layer)
    assert sizing.dense_shapes(1200, 100) == sizing.param_shapes(layer)
    assert sizing.dense_params(5, 3, bias=False) == 15
    assert sizing.dense_shapes(5, 3, bias=False) == {"weight": (3, 5)}


def test_conv_params_and_shapes_match_torch():
    layer = nn.Conv2d(3, 10, 5)
    assert sizing.conv_params(3, 10, 5) == 760 == sizing.count_params(layer)
    assert sizing.conv_shapes(3, 10, 5) == sizing.param_shapes(layer)
    grouped = nn.Conv2d(4, 8, (3, 5), groups=2, bias=False)
    assert sizing.conv_params(4, 8, (3, 5), bias=False, groups=2) == sizing.count_params(grouped)
    assert sizing.conv_shapes(4, 8, (3, 5), bias=False, groups=2) == sizing.param_shapes(grouped)


def test_mlp_params_matches_torch():
    net = nn.Sequential(
        nn.Linear(1200, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 20)
    )
    assert sizing.mlp_params([1200, 100, 50, 20]) == 126170 == sizing.count_params(net)


def test_count_params_trainable_only():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    net[0].weight.requires_grad_(False)
    assert sizing.count_params(net) == 2 + 4
    assert sizing.count_params(net, trainable_only=False) == 6 + 4


def test_memory_units():
    m = sizing.memory(1229001, bits=64)
    assert m.bytes == 9832008
    assert m.mb == pytest.approx(9.832008)
    assert m.mib == pytest.approx(9832008 / 1048576)
    assert str(m) == "9,832,008 bytes = 9.83 MB = 9.38 MiB"
    assert sizing.memory(10, bits=16).bytes == 20


def test_receptive_field_recurrences():
    assert sizing.receptive_field([]) == Field(1, 1, 0.0)
    assert sizing.receptive_field([Conv(3), Conv(3)]) == Field(5, 1, 2.0)
    assert sizing.receptive_field([Conv(3, padding=1), Conv(3, padding=1), Pool(2)]) == Field(
        6, 2, 0.5
    )
    assert sizing.receptive_field([Conv(3, dilation=2)]).size == 5
    assert sizing.receptive_field([Conv(7, stride=2, padding=3), Pool(3, 2, 1)]) == Field(
        11, 4, 0.0
    )
    trace = sizing.receptive_field_trace([Conv(3), Pool(2), Conv(3)])
    assert [f.size for f in trace] == [3, 4, 8]
    assert [f.jump for f in trace] == [1, 2, 2]


def _vgg16_features():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(*layers)


def test_layers_from_sequential_and_vgg16_field():
    layers = sizing.layers_from_sequential(_vgg16_features())
    assert len(layers) == 18 and layers[2] == Pool(2, 2, 0)
    assert sizing.receptive_field(layers) == Field(212, 32, 15.5)


@pytest.mark.parametrize(
    "model, size",
    [
        (nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 3)), 15),
        (
            nn.Sequential(
                nn.Conv2d(1, 3, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(3, 3, 3, padding=1),
                nn.Sigmoid(),
                nn.MaxPool2d(2),
            ),
            32,
        ),
        (
            nn.Sequential(
                nn.Conv2d(1, 2, 5, stride=2, padding=2),
                nn.BatchNorm2d(2),
                nn.ReLU(),
                nn.Conv2d(2, 2, 3, dilation=2, padding=2),
                nn.AvgPool2d(3, 2, 1),
            ),
            40,
        ),
        (nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh()), nn.MaxPool2d(3, 2)), 21),
    ],
)
def test_measured_field_equals_analytic(model, size):
    # a ReLU whose input is negative would zero the gradient: make the original weights negative
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(-p.abs())
    field = sizing.receptive_field(sizing.layers_from_sequential(model))
    for thin in (False, True):
        got = sizing.measure_receptive_field(model, size, thin=thin)
        assert not got.clipped
        assert got.size == field.size
        assert got.cols == got.rows
        centre = field.start + field.jump * got.output_pixel[0]
        assert (got.rows[0] + got.rows[1]) / 2 == pytest.approx(centre)


def test_measure_does_not_touch_the_model_and_reports_clipping():
    model = nn.Sequential(nn.Conv2d(1, 1, 5), nn.ReLU())
    before = model[0].weight.clone()
    got = sizing.measure_receptive_field(model, 5)
    assert got.clipped and got.size == 5
    assert torch.equal(model[0].weight, before)
    assert isinstance(model[1], nn.ReLU)


def test_macs_analytic_and_hooked():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 10 * 10, 5)
    )
    analytic = sizing.conv_macs(3, 8, 3, out_size=10) + sizing.dense_macs(800, 5)
    assert analytic == 8 * 10 * 10 * 27 + 4000
    assert sizing.count_macs(net, (2, 3, 10, 10)) == analytic
    meta = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, device="meta"),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(800, 5, device="meta"),
    )
    assert sizing.count_macs(meta, (1, 3, 10, 10)) == analytic


def test_conv_output_size():
    assert sizing.conv_output_size(224, 3, padding=1) == 224
    assert sizing.conv_output_size(224, 2, stride=2) == 112
    assert sizing.conv_output_size(7, 3, dilation=2) == 3
    with pytest.raises(ValueError, match="too small"):
        sizing.conv_output_size(2, 5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: sizing.dense_params(0, 3), ValueError, "n_in must be a positive int"),
        (lambda: sizing.dense_params(3.0, 3), TypeError, "n_in must be a positive int"),
        (lambda: sizing.conv_params(3, -1, 3), ValueError, "c_out"),
        (lambda: sizing.conv_params(3, 4, (3, 3, 3)), ValueError, "pair"),
        (lambda: sizing.conv_params(3, 4, 3, groups=2), ValueError, "divisible by groups"),
        (lambda: sizing.mlp_params([5]), ValueError, "at least"),
        (lambda: sizing.memory(10, bits=12), ValueError, "bits must be one of"),
        (lambda: sizing.memory(-1), ValueError, "n_params"),
        (lambda: Conv(0), ValueError, "Conv kernel"),
        (lambda: Conv(3, padding=-1), ValueError, "Conv padding"),
        (lambda: Pool(2, stride=0), ValueError, "Pool stride"),
        (lambda: sizing.receptive_field([Conv(3), "pool"]), TypeError, "Conv or Pool"),
        (lambda: sizing.layers_from_sequential(nn.Linear(2, 2)), TypeError, "nn.Sequential"),
        (
            lambda: sizing.layers_from_sequential(nn.Sequential(nn.Flatten())),
            TypeError,
            "unsupported layer Flatten",
        ),
        (
            lambda: sizing.layers_from_sequential(nn.Sequential(nn.Conv2d(1, 1, (3, 5)))),
            ValueError,
            "same along",
        ),
        (
            lambda: sizing.measure_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), 0),
            ValueError,
            "input_size",
        ),
        (
            lambda: sizing.measure_receptive_field(
                nn.Sequential(nn.Conv2d(1, 1, 3)), 9, output_pixel=(9, 0)
            ),
            ValueError,
            "output_pixel",
        ),
        (
            lambda: sizing.measure_receptive_field(
                nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2, dilation=2)), 16
            ),
            ValueError,
            "dilated max-pool",
        ),
        (
            lambda: sizing.measure_receptive_field(nn.Sequential(nn.Flatten()), 8, in_channels=1),
            TypeError,
            "unsupported layer Flatten",
        ),
        (lambda: sizing.count_params([1, 2]), TypeError, "torch.nn.Module"),
        (lambda: sizing.count_macs(nn.Linear(2, 2), (0, 2)), ValueError, "input_shape"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- per-layer tables


def _lenet_torch():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5),
        nn.Sigmoid(),
        nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.Sigmoid(),
        nn.Linear(120, 10),
    )


def test_layer_table_torch_matches_analytic_counts():
    rows = sizing.layer_table(_lenet_torch(), (2, 1, 28, 28))
    assert [r.kind for r in rows][:3] == ["Conv2d", "Sigmoid", "AvgPool2d"]
    assert rows[0].out_shape == (6, 28, 28) and rows[0].activations == 6 * 28 * 28
    assert rows[0].params == sizing.conv_params(1, 6, 5)
    assert rows[0].macs == sizing.conv_macs(1, 6, 5, 28)
    assert rows[3].macs == sizing.conv_macs(6, 16, 5, 10)
    assert rows[-1].macs == sizing.dense_macs(120, 10)
    assert sum(r.params for r in rows) == sizing.count_params(_lenet_torch())
    assert sum(r.macs for r in rows) == sizing.count_macs(_lenet_torch(), (1, 1, 28, 28))
    assert sizing.dominant(rows, "macs") is rows[3]
    assert sizing.dominant(rows, "params") is rows[7]
    assert sizing.dominant(rows, "activations") is rows[0]


def test_layer_table_meta_device_and_nested_names():
    net = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), nn.Flatten(), nn.Linear(8 * 30 * 30, 5)
    ).to("meta")
    rows = sizing.layer_table(net, (1, 3, 32, 32))
    assert [r.name for r in rows] == ["0.0", "0.1", "1", "2"]
    assert rows[2].out_shape == (7200,) and rows[3].macs == 7200 * 5


def test_format_layer_table_totals():
    text = sizing.format_layer_table(sizing.layer_table(_lenet_torch(), (1, 1, 28, 28)))
    last = text.splitlines()[-1].split()
    assert last[0] == "total" and last[1] == f"{sizing.count_params(_lenet_torch()):,}"
    assert len(text.splitlines()) == 10 + 2


def test_layer_table_gluon_matches_torch(mx):
    from mxnet import init
    from mxnet.gluon import nn as mnn

    net = mnn.Sequential()
    net.add(
        mnn.Conv2D(6, 5, padding=2, activation="sigmoid"),
        mnn.AvgPool2D(2, 2),
        mnn.Conv2D(16, 5, activation="sigmoid"),
        mnn.AvgPool2D(2, 2),
        mnn.Dense(120, activation="sigmoid"),
        mnn.Dense(10),
    )
    rows = sizing.layer_table_gluon(net, (2, 1, 28, 28))  # no initialize needed
    torch_rows = [
        r
        for r in sizing.layer_table(_lenet_torch(), (2, 1, 28, 28))
        if r.kind not in ("Sigmoid", "Flatten")
    ]
    assert [(r.out_shape, r.params, r.macs) for r in rows] == [
        (r.out_shape, r.params, r.macs) for r in torch_rows
    ]
    net.initialize(init.Xavier())
    net(mx.nd.zeros((2, 1, 28, 28)))
    assert sum(p.data().size for p in net.collect_params().values()) == sum(r.params for r in rows)


def test_layer_table_gluon_batchnorm_counts_trainable_only(mx):
    from mxnet.gluon import nn as mnn

    net = mnn.Sequential()
    net.add(mnn.Conv2D(4, 3), mnn.BatchNorm(), mnn.Dense(3))
    rows = sizing.layer_table_gluon(net, (1, 2, 5, 5))
    torch_net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(36, 3))
    assert [r.params for r in rows] == [76, 8, 111]
    assert sum(r.params for r in rows) == sizing.count_params(torch_net)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: sizing.layer_table([1], (1, 2)), TypeError, "torch.nn.Module"),
        (lambda: sizing.layer_table(nn.Linear(2, 2), (0, 2)), ValueError, "input_shape"),
        (lambda: sizing.layer_table(nn.Linear(2, 2), (2,)), ValueError, "input_shape"),
        (lambda: sizing.format_layer_table([]), ValueError, "at least one LayerRow"),
        (
            lambda: sizing.format_layer_table(sizing.layer_table(nn.Linear(2, 2), (1, 2)), 3),
            ValueError,
            "bytes_per_value",
        ),
        (lambda: sizing.dominant([], "macs"), ValueError, "at least one"),
        (
            lambda: sizing.dominant(sizing.layer_table(nn.Linear(2, 2), (1, 2)), "flops"),
            ValueError,
            "what must be",
        ),
    ],
)
def test_layer_table_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_layer_table_gluon_bad_input(mx):
    with pytest.raises(TypeError, match="Gluon nn.Sequential"):
        sizing.layer_table_gluon(nn.Linear(2, 2), (1, 2))
