"""Tests for companion.parity: the MXNet <-> PyTorch harness, its error messages, and the
optional-MXNet mechanism."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from companion import parity

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def _load_conftest():
    spec = importlib.util.spec_from_file_location("companion_tests_conftest", HERE / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _clean_records():
    parity.RECORDS.clear()
    yield
    parity.RECORDS.clear()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ optional MXNet mechanism


def test_import_companion_parity_without_mxnet():
    code = (
        "import sys; sys.modules['mxnet'] = None\n"
        "import companion, companion.parity as p\n"
        "assert callable(p.compare) and callable(p.copy_params)\n"
        "assert sys.modules['mxnet'] is None\n"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_missing_mxnet_skips_with_reason(monkeypatch):
    conf = _load_conftest()
    monkeypatch.setitem(sys.modules, "mxnet", None)  # makes `import mxnet` raise ImportError
    monkeypatch.delenv(conf.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="mxnet is not importable"):
        conf.load_mxnet()


def test_missing_mxnet_fails_when_required(monkeypatch):
    conf = _load_conftest()
    monkeypatch.setitem(sys.modules, "mxnet", None)
    monkeypatch.setenv(conf.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="COMPANION_REQUIRE_MXNET=1"):
        conf.load_mxnet()


def test_missing_mxnet_import_function_patched(monkeypatch):
    import builtins

    conf = _load_conftest()
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "mxnet" or name.startswith("mxnet."):
            raise ImportError("No module named 'mxnet' (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setenv(conf.REQUIRE_ENV, "0")
    with pytest.raises(pytest.skip.Exception, match="simulated"):
        conf.load_mxnet()


def test_require_env_rejects_other_values(monkeypatch):
    conf = _load_conftest()
    monkeypatch.setenv(conf.REQUIRE_ENV, "yes")
    with pytest.raises(ValueError, match="must be '0' or '1'"):
        conf.mxnet_required()


def test_mxnet_fixture_returns_module(mx):
    assert hasattr(mx, "nd") and mx.__version__.startswith("1.")


def test_marker_and_fixture_skip_or_fail_in_a_real_run(tmp_path):
    """Run pytest on two small tests with mxnet hidden: skipped normally, failed when required."""
    (tmp_path / "conftest.py").write_text(
        (HERE / "conftest.py").read_text() + "\nimport sys\nsys.modules['mxnet'] = None\n"
    )
    (tmp_path / "test_needs.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.mark.needs_mxnet
        def test_marked():
            import mxnet  # noqa: F401

        def test_fixture(mx):
            assert mx
    """)
    )
    cmd = [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", str(tmp_path)]
    env = {k: v for k, v in os.environ.items() if k != "COMPANION_REQUIRE_MXNET"}
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert "2 skipped" in out.stdout, out.stdout
    assert "mxnet is not importable" in out.stdout
    env["COMPANION_REQUIRE_MXNET"] = "1"
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != 0 and "2 errors" in out.stdout, out.stdout  # setup failures
    assert "COMPANION_REQUIRE_MXNET=1 says this run needs it" in out.stdout


# ------------------------------------------------------------------ assert_close / records


def test_assert_close_records_and_raises():
    d = parity.assert_close("ex", "output", np.array([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
    assert d < 1e-6 and parity.RECORDS[-1]["passed"]
    assert set(parity.RECORDS[-1]) == {"name", "what", "max_abs", "max_rel", "tolerance", "passed"}
    with pytest.raises(parity.ParityError, match="exceeds tolerance"):
        parity.assert_close("ex", "output", np.array([1.0]), np.array([1.1]))
    assert parity.RECORDS[-1]["passed"] is False


def test_expect_mismatch_keeps_failures_out_of_the_records():
    with parity.expect_mismatch() as caught:
        parity.assert_close("ex", "output", 1.0, 2.0)
    assert "exceeds tolerance" in caught["error"] and parity.RECORDS == []
    with pytest.raises(AssertionError, match="expected a ParityError"):
        with parity.expect_mismatch():
            parity.assert_close("ex", "output", 1.0, 1.0)


# ------------------------------------------------------------------ helpers for MXNet tests


def _mlp(mx, hybrid=False, dropout=0.0, out=3):
    gnn = mx.gluon.nn
    net = gnn.HybridSequential() if hybrid else gnn.Sequential()
    net.add(gnn.Dense(16, activation="relu"))
    if dropout:
        net.add(gnn.Dropout(dropout))
    net.add(gnn.Dense(out))
    net.initialize()
    layers = (
        [nn.Linear(20, 16), nn.ReLU()]
        + ([nn.Dropout(dropout)] if dropout else [])
        + [nn.Linear(16, out)]
    )
    return net, nn.Sequential(*layers)


# ------------------------------------------------------------------ copy_params


def test_copy_params_pairs_by_structure(mx, rng):
    net, port = _mlp(mx)
    net(mx.nd.array(rng.normal(size=(2, 20))))
    pairs = parity.copy_params(net, port)
    assert [t for _, t in pairs] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert np.array_equal(port[2].weight.detach().numpy(), net[1].weight.data().asnumpy())


def test_copy_params_names_the_first_shape_mismatch(mx, rng):
    net, _ = _mlp(mx)
    net(mx.nd.array(rng.normal(size=(2, 20))))
    port = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4))
    with pytest.raises(
        parity.ParityError, match=r"parameter #2 .*'2.weight'.*shape \(4, 16\).*shapes differ"
    ):
        parity.copy_params(net, port)


def test_copy_params_names_a_kind_mismatch(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.Sequential()
    net.add(gnn.Dense(4), gnn.BatchNorm())
    net.initialize()
    net(mx.nd.array(rng.normal(size=(3, 5))))
    port = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 4))
    with pytest.raises(parity.ParityError, match="normalization scale.*different kinds"):
        parity.copy_params(net, port)


def test_copy_params_missing_and_extra_layers(mx, rng):
    net, _ = _mlp(mx)
    net(mx.nd.array(rng.normal(size=(2, 20))))
    with pytest.raises(parity.ParityError, match="has no PyTorch counterpart"):
        parity.copy_params(net, nn.Sequential(nn.Linear(20, 16)))
    extra = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3), nn.Linear(3, 3))
    with pytest.raises(parity.ParityError, match="'3.weight'.*has no MXNet counterpart"):
        parity.copy_params(net, extra)


def test_copy_params_needs_initialized_shapes(mx):
    net = mx.gluon.nn.Dense(3)
    net.initialize()
    with pytest.raises(ValueError, match="run the block once"):
        parity.copy_params(net, nn.Linear(20, 3))


# ----------------------------------------------------------- compare: positive, every layer kind


def test_compare_mlp_softmax_ce_sgd_momentum_wd(mx, rng):
    net, port = _mlp(mx)
    x = rng.normal(size=(8, 20)).astype("float32")
    y = rng.integers(0, 3, 8)
    res = parity.compare(
        "mlp", net, port, x, y=y, loss="softmax_ce", steps=3, momentum=0.9, wd=1e-3
    )
    whats = [r["what"] for r in res.rows]
    assert (
        whats[:2] == ["output", "loss"]
        and "grad 2.bias" in whats
        and "2.bias after 3 steps" in whats
    )
    assert res.passed and len(res.rows) == 10 and parity.RECORDS == res.rows
    assert all(r["tolerance"] >= parity.TOLERANCES["float32"] for r in res.rows)
    assert "all within tolerance" in str(res)


def test_compare_conv_batchnorm_pooling_train_steps(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.HybridSequential()
    net.add(
        gnn.Conv2D(6, 3, padding=1),
        gnn.BatchNorm(),
        gnn.Activation("relu"),
        gnn.MaxPool2D(2),
        gnn.Conv2D(4, 3, strides=2, groups=2),
        gnn.AvgPool2D(pool_size=2, strides=1, padding=1),
        gnn.Dense(5),
    )
    net.initialize()
    port = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 4, 3, stride=2, groups=2),
        nn.AvgPool2d(2, stride=1, padding=1),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 5),
    )
    x = rng.normal(size=(4, 3, 8, 8)).astype("float32")
    res = parity.compare(
        "cnn", net, port, x, y=rng.integers(0, 5, 4), loss="softmax_ce", train=True, steps=3
    )
    whats = [r["what"] for r in res.rows]
    assert "1.running_var after the first pass" in whats and "1.running_mean after 3 steps" in whats
    assert res.passed


def test_compare_batchnorm_dense_global_pool_and_eval_mode(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.HybridSequential()
    net.add(
        gnn.Conv2D(4, 3),
        gnn.GlobalAvgPool2D(),
        gnn.Flatten(),
        gnn.Dense(6),
        gnn.BatchNorm(),
        gnn.Dense(2),
    )
    net.initialize()
    port = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 6),
        nn.BatchNorm1d(6),
        nn.Linear(6, 2),
    )
    x = rng.normal(size=(5, 3, 6, 6)).astype("float32")
    assert parity.compare("bn1d-train", net, port, x, train=True, steps=2).passed
    assert port.training  # compare restores the module's mode
    # predict mode: outputs agree, but MXNet's gradient through BatchNorm is computed with batch
    # statistics
    assert parity.compare("bn1d-eval", net, port, x, train=False, grads=False).passed
    with pytest.raises(parity.ParityError, match=r"grad 0.weight.*use_global_stats=True"):
        parity.compare("bn1d-eval-grads", net, port, x, train=False)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_compare_recurrent_layers(mx, rng, kind):
    grnn = mx.gluon.rnn
    net = getattr(grnn, kind)(7, num_layers=2, bidirectional=True)
    net.initialize()
    extra = {"nonlinearity": "relu"} if kind == "RNN" else {}  # gluon rnn.RNN defaults to relu
    port = getattr(nn, kind)(6, 7, num_layers=2, bidirectional=True, **extra)
    x = rng.normal(size=(5, 4, 6)).astype("float32")  # TNC, the default layout of both
    res = parity.compare(kind, net, port, x, steps=2)
    assert res.passed and "grad weight_hh_l1_reverse" in [r["what"] for r in res.rows]


def test_compare_lstm_batch_first_and_cells(mx, rng):
    grnn = mx.gluon.rnn
    net = grnn.LSTM(5, layout="NTC")
    net.initialize()
    x = rng.normal(size=(3, 4, 6)).astype("float32")
    assert parity.compare("ntc", net, nn.LSTM(6, 5, batch_first=True), x).passed
    cell = grnn.GRUCell(5)
    cell.initialize()

    class GluonStep(mx.gluon.Block):  # a cell returns (output, states): wrap to one output
        def __init__(self, c):
            super().__init__()
            self.c = c

        def forward(self, x):
            return self.c(x, [mx.nd.zeros((x.shape[0], 5))])[0]

    class TorchStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.GRUCell(6, 5)

        def forward(self, x):
            return self.c(x)

    assert parity.compare("grucell", GluonStep(cell), TorchStep(), x[0], steps=1).passed


def test_compare_nested_custom_blocks(mx, rng):
    gluon = mx.gluon

    class GluonNet(gluon.Block):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.scale = self.params.get("scale", shape=(1, 8), init=mx.init.Constant(0.5))
                self.body = gluon.nn.HybridSequential()
                self.body.add(gluon.nn.Dense(8, activation="relu"), gluon.nn.Dense(8))
                self.head = gluon.nn.Dense(2)

        def forward(self, x):
            return self.head(self.body(x) * self.scale.data())

    class TorchNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.full((1, 8), 0.5))
            self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.body(x) * self.scale)

    net = GluonNet()
    net.initialize()
    x = rng.normal(size=(6, 4)).astype("float32")
    res = parity.compare(
        "nested", net, TorchNet(), x, y=rng.normal(size=(6, 2)), loss="l2", steps=2
    )
    assert res.passed and res.pairs[0][1] == "scale"


def test_compare_embedding_integer_input(mx, rng):
    net = mx.gluon.nn.Embedding(10, 4)
    net.initialize()
    res = parity.compare("emb", net, nn.Embedding(10, 4), rng.integers(0, 10, (3, 5)), steps=1)
    assert res.passed


def test_compare_dropout_mask_transferred_hybridized(mx, rng):
    net, port = _mlp(mx, hybrid=True, dropout=0.5, out=1)
    net.hybridize()
    x = rng.normal(size=(8, 20)).astype("float32")
    res = parity.compare(
        "drop", net, port, x, y=rng.normal(size=(8, 1)), loss="l2", train=True, steps=3
    )
    assert res.passed
    assert net._active  # hybridization restored
    assert "forward" not in net[1].__dict__  # the patched dropout forward is removed
    # in eval/predict mode dropout is the identity in both
    assert parity.compare("drop-eval", net, port, x, train=False).passed


def test_compare_dropout_count_mismatch(mx, rng):
    net, _ = _mlp(mx, dropout=0.5)
    port = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    with pytest.raises(parity.ParityError, match="1 Dropout layers and the PyTorch module 0"):
        parity.compare("drop", net, port, rng.normal(size=(4, 20)), train=True)


def test_compare_float64_uses_float64_tolerance(mx, rng):
    net, port = _mlp(mx)
    net.cast("float64")
    port.double()
    x = rng.normal(size=(4, 20))
    res = parity.compare(
        "f64", net, port, x, y=rng.integers(0, 2, (4, 3)), loss="sigmoid_bce", steps=2
    )
    assert res.passed and min(r["tolerance"] for r in res.rows) == parity.TOLERANCES["float64"]


def test_compare_minibatches(mx, rng):
    net, port = _mlp(mx)
    x = rng.normal(size=(12, 20)).astype("float32")
    res = parity.compare(
        "mb",
        net,
        port,
        x,
        y=rng.normal(size=(12, 3)),
        loss="l2",
        steps=5,
        batch_size=4,
        momentum=0.5,
    )
    assert res.passed


def test_compare_step_i_uses_minibatch_i(mx, rng, monkeypatch):
    """Step i runs on mini-batch i (cycling over the whole batches), after the first pass."""
    seen = []
    forward_backward = parity._Run.forward_backward

    def spy(self, sl):
        seen.append((sl.start, sl.stop))
        return forward_backward(self, sl)

    monkeypatch.setattr(parity._Run, "forward_backward", spy)
    net, port = _mlp(mx)
    x = rng.normal(size=(14, 20)).astype("float32")  # 3 whole batches of 4, 2 samples left over
    y = rng.normal(size=(14, 3))
    assert parity.compare("mb", net, port, x, y=y, loss="l2", steps=5, batch_size=4).passed
    assert seen == [(0, 4), (4, 8), (8, 12), (0, 4), (4, 8)]


def test_compare_rejects_bad_arguments(mx, rng):
    net, port = _mlp(mx)
    x = rng.normal(size=(4, 20))
    with pytest.raises(ValueError, match="steps must be"):
        parity.compare("bad", net, port, x, steps=-1)
    with pytest.raises(ValueError, match="needs labels"):
        parity.compare("bad", net, port, x, loss="l2")
    with pytest.raises(ValueError, match="loss must be one of"):
        parity.compare("bad", net, port, x, y=np.zeros(4), loss="hinge")
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 4\], got 5"):
        parity.compare("bad", net, port, x, batch_size=5)
    with pytest.raises(ValueError, match="y must have 4 rows"):
        parity.compare("bad", net, port, x, y=np.zeros(3), loss="l2")


# ----------------------------------------------------- compare: known porting mistakes are caught


def test_batchnorm_momentum_not_converted_is_caught(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.HybridSequential()
    net.add(gnn.Dense(6), gnn.BatchNorm(momentum=0.9), gnn.Dense(2))
    net.initialize()
    port = nn.Sequential(
        nn.Linear(5, 6), nn.BatchNorm1d(6, momentum=0.9), nn.Linear(6, 2)
    )  # should be 0.1
    x = rng.normal(size=(8, 5)).astype("float32")
    with pytest.raises(parity.ParityError) as err:
        parity.compare("bn-momentum", net, port, x, train=True, steps=1)
    msg = str(err.value)
    assert "1.running_mean after the first pass" in msg
    assert "MXNet momentum 0.9 is PyTorch momentum 0.1" in msg and "the port uses 0.9" in msg
    # outputs, loss and gradients agreed: only the running statistics give the mistake away
    assert all(r["passed"] for r in parity.RECORDS[:-1]) and not parity.RECORDS[-1]["passed"]


def test_l2loss_vs_mseloss_factor_two_is_caught(mx, rng):
    net, port = _mlp(mx, out=1)
    x = rng.normal(size=(8, 20)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    wrong = (mx.gluon.loss.L2Loss(), nn.MSELoss())
    with pytest.raises(
        parity.ParityError, match=r"loss: .*PyTorch = 2 x MXNet.*needs 0.5 \* MSELoss"
    ):
        parity.compare("l2-vs-mse", net, port, x, y=y, loss=wrong)


def test_trainer_step_scaling_mistake_is_caught(mx, rng):
    net, port = _mlp(mx)
    x = rng.normal(size=(8, 20)).astype("float32")
    y = rng.integers(0, 3, 8)
    sce = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    mean_loss = (
        lambda out, label: sce(out, label).mean(),
        nn.CrossEntropyLoss(),
    )  # then trainer.step(8)
    with pytest.raises(parity.ParityError) as err:
        parity.compare("step-scaling", net, port, x, y=y, loss=mean_loss, steps=1)
    msg = str(err.value)
    assert "grad 0.weight" in msg and "PyTorch = 8 x MXNet" in msg
    assert "divides the learning rate by the batch size" in msg


def test_softmax_ce_with_one_output_unit_is_explained(mx, rng):
    net, port = _mlp(mx, out=1)
    x = rng.normal(size=(8, 20)).astype("float32")
    y = rng.integers(0, 2, 8)  # binary labels, but class 1 does not exist with one unit
    with pytest.raises(parity.ParityError, match="softmax over a single logit is always 1"):
        parity.compare("one-unit", net, port, x, y=np.zeros(8), loss="softmax_ce")
    # the fix: one unit with the sigmoid binary cross-entropy learns, and the port matches
    assert parity.compare("one-unit-bce", net, port, x, y=y, loss="sigmoid_bce", steps=2).passed


def test_rnn_default_activation_mismatch_is_explained(mx, rng):
    net = mx.gluon.rnn.RNN(5)
    net.initialize()
    with pytest.raises(parity.ParityError, match="relu in MXNet.*tanh in PyTorch"):
        parity.compare("rnn-act", net, nn.RNN(3, 5), rng.normal(size=(4, 2, 3)))


def test_dropout_without_mask_transfer_would_differ(mx, rng):
    """Sanity check of the link: masks really are random, so matching them is what makes parity
    pass."""
    net, port = _mlp(mx, dropout=0.5)
    x = rng.normal(size=(16, 20)).astype("float32")
    net(mx.nd.array(x))
    parity.copy_params(net, port)
    with mx.autograd.record(train_mode=True):
        a = net(mx.nd.array(x)).asnumpy()
    port.train()
    b = port(torch.as_tensor(x)).detach().numpy()
    assert np.max(np.abs(a - b)) > 1e-2


def test_compare_maxpool_in_predict_mode_records_in_training_mode(mx, rng):
    """MXNet's oneDNN max-pooling backward is wrong in predict mode; without BatchNorm/Dropout
    the two modes compute the same function, so compare records in training mode and the port
    matches."""
    gnn = mx.gluon.nn
    net = gnn.Sequential()
    net.add(gnn.Conv2D(6, 3), gnn.MaxPool2D(2), gnn.Dense(3))
    net.initialize()
    port = nn.Sequential(nn.Conv2d(3, 6, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 5 * 5, 3))
    x = rng.normal(size=(4, 3, 12, 12)).astype("float32")
    assert parity.compare("maxpool-eval", net, port, x, train=False).passed


def test_config_differences_lists_layout_and_eps(mx):
    grnn, gnn = mx.gluon.rnn, mx.gluon.nn
    lstm = grnn.LSTM(4, layout="NTC")
    assert "batch_first=False" in parity.config_differences(lstm, nn.LSTM(3, 4))[0]
    assert parity.config_differences(lstm, nn.LSTM(3, 4, batch_first=True)) == []
    bn = gnn.BatchNorm(epsilon=1e-3)
    found = parity.config_differences(bn, nn.BatchNorm1d(3, momentum=0.1))
    assert len(found) == 1 and "eps 0.001 in MXNet vs 1e-05" in found[0]


def test_compare_predict_mode_batchnorm_with_maxpool_hints(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.Sequential()
    net.add(gnn.Conv2D(4, 3), gnn.BatchNorm(), gnn.MaxPool2D(2), gnn.Dense(2))
    net.initialize()
    port = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 9, 2)
    )
    x = rng.normal(size=(3, 3, 8, 8)).astype("float32")
    with pytest.raises(parity.ParityError) as err:
        parity.compare("bn-pool-eval", net, port, x, train=False)
    assert "use_global_stats=True" in str(err.value) and "max-pooling gradients" in str(err.value)
    assert parity.compare("bn-pool-train", net, port, x, train=True).passed


def test_parity_result_str_has_no_numbers_that_vary(mx, rng):
    net, port = _mlp(mx)
    res = parity.compare("str", net, port, rng.normal(size=(2, 20)).astype("float32"))
    text = str(res)
    assert text.splitlines()[0] == "str: 6 comparisons, all within tolerance"
    assert "  grad 0.weight: ok (tol 1e-05)" in text.splitlines()


def test_compare_shared_parameters(mx, rng):
    gnn = mx.gluon.nn
    net = gnn.Sequential()
    shared = gnn.Dense(8, activation="relu")
    net.add(
        gnn.Dense(8, activation="relu"),
        shared,
        gnn.Dense(8, activation="relu", params=shared.params),
        gnn.Dense(3),
    )
    net.initialize()
    lin = nn.Linear(8, 8)
    port = nn.Sequential(
        nn.Linear(20, 8), nn.ReLU(), lin, nn.ReLU(), lin, nn.ReLU(), nn.Linear(8, 3)
    )
    res = parity.compare("shared", net, port, rng.normal(size=(4, 20)).astype("float32"), steps=2)
    assert res.passed and [t for _, t in res.pairs] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "6.weight",
        "6.bias",
    ]


def test_compare_a_block_without_parameters(mx):
    """Dropout alone: outputs and loss are compared (masks replayed); there are no gradients to
    compare."""
    import torch
    from mxnet.gluon import nn as mnn

    mx_net = mnn.Sequential()
    mx_net.add(mnn.Dropout(0.5), mnn.Dropout(0.2))
    torch_net = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Dropout(0.2))
    x = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    result = parity.compare("two dropouts", mx_net, torch_net, x, train=True)
    assert result.passed and [r["what"] for r in result.rows] == ["output", "loss"]
    with pytest.raises(ValueError, match="needs trainable parameters"):
        parity.compare("two dropouts", mx_net, torch_net, x, train=True, steps=1)


def test_assert_close_records_plain_python_types_for_numpy_tolerances():
    import json

    from companion import parity

    parity.RECORDS.clear()
    parity.assert_close("t", "x", np.ones(3), np.ones(3), tol=np.float32(1e-3))
    json.dumps(parity.RECORDS)  # raised TypeError for numpy.bool_ before
    parity.RECORDS.clear()
