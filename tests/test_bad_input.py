"""Bad input, everywhere: every public function and class of companion rejects bad input with a
message that names what was expected.

``BAD_INPUT`` holds, for every public name (``module.name``, as ``test_api.public_api`` lists
them), at least one call with bad input, the exception it must raise and a pattern its message
must match. ``test_every_public_name_has_a_bad_input_case`` fails when a public function or class
has neither a case here nor an entry in ``NO_BAD_INPUT`` with the reason it has none.
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from test_api import public_api

from companion import (
    autodiff,
    conv,
    data,
    ensemble,
    gradcheck,
    layers,
    parity,
    plotting,
    rnn,
    seeds,
    sizing,
    text,
    timing,
    training,
)

#: Public names without a bad-input case, and why.
NO_BAD_INPUT = {
    "data.Split": "a NamedTuple the loaders fill; it holds what it is given",
    "data.PolynomialData": "a NamedTuple that polynomial_data fills (its inputs are checked)",
    "data.RegressionData": "a NamedTuple that high_dim_linear fills (its inputs are checked)",
    "parity.ParityError": "the exception class itself",
    "parity.ParityResult": "the record compare() fills (its inputs are checked)",
    "sizing.Field": "the record receptive_field() computes (its layers are checked)",
    "sizing.Measured": "the record measure_receptive_field() computes (its inputs are checked)",
    "sizing.LayerRow": "the record layer_table() computes (its inputs are checked)",
    "rnn.TrainResult": "the record rnn.train() fills (its inputs are checked)",
    "text.default_search": "takes no arguments",
}


def _idx_file(tmp: Path, payload: bytes) -> Path:
    path = tmp / "bad-idx1-ubyte"
    path.write_bytes(payload)
    return path


def _torch():
    import torch

    return torch


def _mx_dense():
    from mxnet import gluon

    net = gluon.nn.Dense(2, in_units=3)
    net.initialize()
    return net


def _history() -> training.History:
    return training.History([0.5], [0.9], [0.6], [0.8])


def _empty_loader():
    return iter(())


def _linear():
    return _torch().nn.Linear(2, 2)


def _ensemble():
    return ensemble.Ensemble(_linear, [0, 1])


def _params():
    return rnn.init_params([0], vocab_size=4, num_hiddens=3)


# name -> [(call, exception type, pattern the message must match)]
BAD_INPUT: dict[str, list[tuple]] = {
    # --------------------------------------------------------------------------- autodiff
    "autodiff.Value": [
        (lambda: autodiff.Value("3"), TypeError, r"real number .*got str"),
        (lambda: autodiff.Value(math.inf), ValueError, r"finite number"),
    ],
    "autodiff.forward_trace": [
        (lambda: autodiff.forward_trace(3.0), ValueError, r"expected a companion.autodiff.Value"),
        (
            lambda: autodiff.forward_trace(autodiff.Value(1.0), digits=-1),
            ValueError,
            r"digits >= 0",
        ),
    ],
    "autodiff.reverse_trace": [
        (
            lambda: autodiff.reverse_trace(autodiff.Value(1.0) * 2),
            ValueError,
            r"needs output.backward\(\)",
        ),
        (lambda: autodiff.reverse_trace("y"), ValueError, r"expected a companion.autodiff.Value"),
    ],
    # --------------------------------------------------------------------------- conv
    "conv.OpCount": [
        (lambda: conv.OpCount(-1, 0), ValueError, r"non-negative integer"),
        (lambda: conv.OpCount(1.5, 0), ValueError, r"non-negative integer"),
    ],
    "conv.corr2d": [
        (
            lambda: conv.corr2d(np.ones(3), np.ones((2, 2))),
            ValueError,
            r"expected a 2-D array \(height, width\), got shape \(3,\)",
        )
    ],
    "conv.im2col": [
        (
            lambda: conv.im2col(np.ones((1, 3, 3)), kernel=0),
            ValueError,
            r"kernel: expected an int >= 1",
        )
    ],
    "conv.conv2d_matmul": [
        (
            lambda: conv.conv2d_matmul(np.ones((2, 3, 3)), np.ones((1, 1, 2, 2))),
            ValueError,
            r"expects 1 input channels",
        )
    ],
    "conv.toeplitz_matrix": [
        (
            lambda: conv.toeplitz_matrix(np.ones((2, 2)), (3, 3, 3)),
            ValueError,
            r"expected \(height, width\)",
        )
    ],
    "conv.compose_kernels": [
        (
            lambda: conv.compose_kernels(np.ones(2), np.ones((2, 2))),
            ValueError,
            r"two 1-D or two 2-D kernels",
        )
    ],
    "conv.conv2d_counted": [
        (
            lambda: conv.conv2d_counted(np.ones((1, 3, 3)), np.ones((2, 1, 2, 2)), b=[0.0]),
            ValueError,
            r"bias: expected shape \(2,\)",
        )
    ],
    "conv.conv2d_backward_counted": [
        (
            lambda: conv.conv2d_backward_counted(
                np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), np.ones((1, 3, 3))
            ),
            ValueError,
            r"dy: expected shape \(1, 2, 2\)",
        )
    ],
    "conv.conv2d_cost": [
        (lambda: conv.conv2d_cost((1, 4, 4), (2, 3, 3, 3)), ValueError, r"expects 3 input channels")
    ],
    "conv.pool_output_size": [
        (lambda: conv.pool_output_size(2, kernel=3), ValueError, r"smaller than the kernel 3")
    ],
    "conv.pool2d": [
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), 2, mode="median"),
            ValueError,
            r"mode: expected one of",
        )
    ],
    "conv.pool2d_cost": [
        (lambda: conv.pool2d_cost((4, 4), 2), ValueError, r"x_shape: expected \(c, h, w\)")
    ],
    # --------------------------------------------------------------------------- data
    "data.offline_digits": [
        (
            lambda: data.offline_digits(train_size=5000, test_size=1),
            ValueError,
            r"train_size \+ test_size <= 5000",
        )
    ],
    "data.resize_images": [
        (
            lambda: data.resize_images(np.ones((1, 1, 28, 28)), 5),
            ValueError,
            r"divides or is a multiple of 28",
        ),
        (lambda: data.resize_images(np.ones((28, 28)), 14), ValueError, r"\(N, C, H, H\)"),
    ],
    "data.read_idx": [
        (
            lambda tmp: data.read_idx(_idx_file(tmp, b"\x01\x02\x08\x01")),
            ValueError,
            r"bad IDX magic number",
        ),
        (
            lambda tmp: data.read_idx(
                _idx_file(tmp, struct.pack(">BBBBI", 0, 0, 8, 1, 3) + b"\x00")
            ),
            ValueError,
            r"truncated: shape \(3,\)",
        ),
    ],
    "data.data_dir": [(lambda: data.data_dir(5), TypeError, r"expected str, bytes or os.PathLike")],
    "data.fashion_mnist": [
        (lambda tmp: data.fashion_mnist(root=tmp, download=False), RuntimeError, r"Put these files")
    ],
    "data.load_image_data": [
        (
            lambda: data.load_image_data(full="yes"),
            ValueError,
            r"expected full to be True, False or None",
        )
    ],
    "data.polynomial_data": [
        (
            lambda: data.polynomial_data(true_w=(1.0,) * 21),
            ValueError,
            r"len\(true_w\) <= max_degree=20",
        )
    ],
    "data.high_dim_linear": [
        (lambda: data.high_dim_linear(noise=-1), ValueError, r"expected noise >= 0")
    ],
    "data.Batches": [
        (lambda: data.Batches(np.ones(3), np.ones(4), 2), ValueError, r"same first dimension"),
        (lambda: data.Batches(np.ones(3), np.ones(3), 0), ValueError, r"positive integer batch"),
    ],
    "data.torch_batches": [
        (
            lambda: data.torch_batches(np.ones(3), np.ones(3), 1.5),
            ValueError,
            r"positive integer batch_size",
        )
    ],
    "data.mxnet_batches": [
        (
            lambda: data.mxnet_batches(np.ones((0, 2)), np.ones(0), 2),
            ValueError,
            r"at least one example",
        )
    ],
    # --------------------------------------------------------------------------- ensemble
    "ensemble.Ensemble": [
        (lambda: ensemble.Ensemble(_linear, [0, 0]), ValueError, r"distinct non-negative"),
        (lambda: ensemble.Ensemble(lambda: "net", [0]), ValueError, r"return an nn.Module"),
    ],
    "ensemble.evaluate": [
        (
            lambda: ensemble.evaluate(
                _ensemble(), np.ones((3, 2)), np.ones(2), lambda o, y: o.mean()
            ),
            ValueError,
            r"same non-zero length",
        )
    ],
    "ensemble.train_ensemble": [
        (
            lambda: ensemble.train_ensemble(
                _linear,
                [0],
                np.ones((4, 2)),
                np.zeros(4),
                loss_fn=None,
                epochs=1,
                batch_size=0,
                optimizer=None,
            ),
            ValueError,
            r"positive integer batch_size",
        )
    ],
    # --------------------------------------------------------------------------- gradcheck
    "gradcheck.numerical_gradient": [
        (
            lambda: gradcheck.numerical_gradient(np.sum, np.ones(2, dtype=np.float32)),
            ValueError,
            r"expected a float64 array",
        ),
        (
            lambda: gradcheck.numerical_gradient(lambda w: w, np.ones(2)),
            ValueError,
            r"expected f to return a scalar",
        ),
    ],
    "gradcheck.relative_error": [
        (
            lambda: gradcheck.relative_error(np.ones(2), np.ones(3)),
            ValueError,
            r"same shape, got \(2,\) and \(3,\)",
        )
    ],
    # --------------------------------------------------------------------------- layers
    "layers.Linear": [
        (lambda: layers.Linear(0, 2), ValueError, r"sizes must be positive"),
        (
            lambda: layers.Linear(3, 2).forward(np.ones((4, 2))),
            ValueError,
            r"expected an array of shape \(N, 3\), got shape \(4, 2\)",
        ),
    ],
    "layers.Tanh": [
        (
            lambda: layers.Tanh().forward(np.ones(3)),
            ValueError,
            r"expected an array of shape \(N, features\)",
        )
    ],
    "layers.MSELoss": [
        (
            lambda: layers.MSELoss().forward(np.ones((2, 1)), np.ones(2)),
            ValueError,
            r"must be equal",
        )
    ],
    "layers.Sequential": [
        (
            lambda: layers.Sequential(layers.Tanh(), "relu"),
            ValueError,
            r"expected layers with forward and backward",
        ),
        (lambda: layers.Sequential().sgd_step(0), ValueError, r"learning rate must be positive"),
    ],
    # --------------------------------------------------------------------------- parity
    "parity.to_numpy": [
        (
            lambda: parity.to_numpy("abc"),
            ValueError,
            r"expected an NDArray, a tensor, an array or a number",
        )
    ],
    "parity.assert_close": [
        (
            lambda: parity.assert_close("t", "x", np.ones(2), np.ones(3)),
            parity.ParityError,
            r"shapes differ",
        ),
        (lambda: parity.assert_close("t", "x", 1.0, 1.0, tol=-1), ValueError, r"tol >= 0"),
    ],
    "parity.expect_mismatch": [
        (lambda: _exit_clean(parity.expect_mismatch()), AssertionError, r"expected a ParityError")
    ],
    "parity.copy_params": [
        (
            lambda: parity.copy_params(_mx_dense(), _torch().nn.Linear(3, 3)),
            parity.ParityError,
            r"shapes differ",
        )
    ],
    "parity.config_differences": [
        (
            lambda: parity.config_differences(_mx_dense(), "net"),
            ValueError,
            r"expected a Gluon block and a torch.nn.Module",
        )
    ],
    "parity.compare": [
        (
            lambda: parity.compare(
                "t", _mx_dense(), _torch().nn.Linear(3, 2), np.ones((4, 3)), steps=-1
            ),
            ValueError,
            r"steps must be an int >= 0",
        ),
        (
            lambda: parity.compare(
                "t", _mx_dense(), _torch().nn.Linear(3, 2), np.ones((4, 3)), batch_size=5
            ),
            ValueError,
            r"batch_size must be in \[1, 4\]",
        ),
    ],
    # --------------------------------------------------------------------------- plotting
    "plotting.plot_curves": [
        (
            lambda: plotting.plot_curves([1, 2], {"a": [1.0]}, "x", "y"),
            ValueError,
            r"expected 2 values \(one per x\)",
        )
    ],
    "plotting.plot_history": [
        (
            lambda: plotting.plot_history({"loss": [1]}),
            ValueError,
            r"expected a companion.training.History",
        )
    ],
    "plotting.plot_bands": [
        (
            lambda: plotting.plot_bands([1, 2], {"a": [[1.0, 2.0]]}, "x", "y"),
            ValueError,
            r"expected \(seeds >= 2, 2\) values",
        )
    ],
    # --------------------------------------------------------------------------- rnn
    "rnn.init_params": [(lambda: rnn.init_params([], 4, 3), ValueError, r">= 1 seed")],
    "rnn.forward": [
        (
            lambda: rnn.forward(
                _params(), _torch().zeros(2, 1, 3, dtype=_torch().long), _torch().zeros(1, 1, 3)
            ),
            ValueError,
            r"expected X of shape \(1, B, T\)",
        )
    ],
    "rnn.loss_per_model": [
        (
            lambda: rnn.loss_per_model(
                _torch().zeros(2, 3, 4), _torch().zeros(2, 3, dtype=_torch().long)
            ),
            ValueError,
            r"expected logits of shape \(E, B, T, V\)",
        )
    ],
    "rnn.train": [
        (
            lambda: rnn.train([0, 1] * 50, 2, [0], num_hiddens=3, steps=0),
            ValueError,
            r"expected steps >= 1",
        )
    ],
    "rnn.perplexity": [
        (
            lambda: rnn.perplexity(_params(), [0, 1], num_streams=2),
            ValueError,
            r"expected at least 3 tokens",
        )
    ],
    "rnn.predict": [(lambda: rnn.predict(_params(), [], 3), ValueError, r"non-empty prefix")],
    # --------------------------------------------------------------------------- seeds
    "seeds.SeedStats": [
        (lambda: seeds.SeedStats((0, 1), (0.5,)), ValueError, r"one value per seed")
    ],
    "seeds.over_seeds": [
        (lambda: seeds.over_seeds(float, seeds=range(3)), ValueError, r"at least 5 seeds"),
        (lambda: seeds.over_seeds(lambda s: math.nan), ValueError, r"returned NaN"),
    ],
    "seeds.clearly_better": [
        (lambda: seeds.clearly_better(_stats(), _stats(), k=0), ValueError, r"expected k > 0")
    ],
    "seeds.compare": [(lambda: seeds.compare({}), ValueError, r"at least one configuration")],
    "seeds.table": [(lambda: seeds.table({}), ValueError, r"at least one result")],
    # --------------------------------------------------------------------------- sizing
    "sizing.dense_params": [
        (
            lambda: sizing.dense_params(0, 3),
            ValueError,
            r"n_in must be a "
            r"positive int",
        )
    ],
    "sizing.dense_shapes": [
        (lambda: sizing.dense_shapes(3, 2.5), TypeError, r"n_out must be a positive int, got float")
    ],
    "sizing.conv_params": [
        (lambda: sizing.conv_params(3, 4, 3, groups=2), ValueError, r"divisible by groups=2")
    ],
    "sizing.conv_shapes": [
        (
            lambda: sizing.conv_shapes(3, 4, (3, 3, 3)),
            ValueError,
            r"kernel must be an int or a pair",
        )
    ],
    "sizing.mlp_params": [
        (
            lambda: sizing.mlp_params([10]),
            ValueError,
            r"at least an input and "
            r"an output width",
        )
    ],
    "sizing.Memory": [(lambda: sizing.Memory(-1), ValueError, r"must be a non-negative int")],
    "sizing.memory": [(lambda: sizing.memory(10, bits=12), ValueError, r"one of 8, 16, 32, 64")],
    "sizing.count_params": [
        (lambda: sizing.count_params("net"), TypeError, r"must be a torch.nn.Module")
    ],
    "sizing.param_shapes": [
        (lambda: sizing.param_shapes(None), TypeError, r"must be a torch.nn.Module")
    ],
    "sizing.Conv": [
        (
            lambda: sizing.Conv(3, stride=0),
            ValueError,
            r"Conv stride must be a "
            r"positive int",
        )
    ],
    "sizing.Pool": [
        (
            lambda: sizing.Pool(2, padding=-1),
            ValueError,
            r"Pool padding must be a "
            r"non-negative int",
        )
    ],
    "sizing.receptive_field_trace": [
        (lambda: sizing.receptive_field_trace([3]), TypeError, r"layers must be Conv or Pool")
    ],
    "sizing.receptive_field": [
        (lambda: sizing.receptive_field(["conv"]), TypeError, r"layers must be Conv or Pool")
    ],
    "sizing.conv_output_size": [
        (lambda: sizing.conv_output_size(3, kernel=5), ValueError, r"too small for kernel 5")
    ],
    "sizing.layers_from_sequential": [
        (
            lambda: sizing.layers_from_sequential(_torch().nn.Sequential(_torch().nn.Linear(2, 2))),
            TypeError,
            r"unsupported layer Linear",
        )
    ],
    "sizing.measure_receptive_field": [
        (
            lambda: sizing.measure_receptive_field(_torch().nn.Sequential(), input_size=8),
            ValueError,
            r"in_channels is required",
        )
    ],
    "sizing.conv_macs": [
        (
            lambda: sizing.conv_macs(3, 4, 3, out_size=(2, 2, 2)),
            ValueError,
            r"out_size must be an int or a pair",
        )
    ],
    "sizing.dense_macs": [
        (
            lambda: sizing.dense_macs(-1, 2),
            ValueError,
            r"n_in must be a positive "
            r"int",
        )
    ],
    "sizing.count_macs": [
        (
            lambda: sizing.count_macs(_linear(), (2,)),
            ValueError,
            r"input_shape must be positive ints \(N, \.\.\.\)",
        )
    ],
    "sizing.layer_table": [
        (lambda: sizing.layer_table("net", (1, 2)), TypeError, r"must be a torch.nn.Module")
    ],
    "sizing.layer_table_gluon": [
        (
            lambda: sizing.layer_table_gluon(_linear(), (1, 2)),
            TypeError,
            r"must be a Gluon nn.Sequential",
        )
    ],
    "sizing.format_layer_table": [
        (lambda: sizing.format_layer_table([]), ValueError, r"at least one LayerRow")
    ],
    "sizing.dominant": [
        (lambda: sizing.dominant([], "flops"), ValueError, r"'params', 'macs' or 'activations'")
    ],
    # --------------------------------------------------------------------------- text
    "text.time_machine_path": [
        (
            lambda tmp: text.time_machine_path(tmp, download=False, search=[]),
            RuntimeError,
            r"file missing, download=False",
        )
    ],
    "text.clean_line": [
        (lambda: text.clean_line(3), TypeError, r"expected a line of text \(str\), got int")
    ],
    "text.read_time_machine": [
        (lambda tmp: text.read_time_machine(tmp / "missing.txt"), FileNotFoundError, r"missing.txt")
    ],
    "text.tokenize": [
        (
            lambda: text.tokenize(["a b"], token="byte"),
            ValueError,
            r"expected token 'word' or 'char'",
        )
    ],
    "text.count_corpus": [
        (lambda: text.count_corpus(5), ValueError, r"expected a list of tokens or of token lists")
    ],
    "text.ngrams": [(lambda: text.ngrams(["a"], 0), ValueError, r"positive integer n")],
    "text.Vocab": [
        (lambda: text.Vocab(["a"], min_freq=-1), ValueError, r"min_freq >= 0"),
        (lambda: text.Vocab(["a"]).to_tokens(5), ValueError, r"index in \[0, 2\)"),
    ],
    "text.load_corpus_time_machine": [
        (
            lambda tmp: text.load_corpus_time_machine("syllable", path=_write(tmp, "ab")),
            ValueError,
            r"expected token 'word' or 'char'",
        )
    ],
    "text.seq_data_iter_random": [
        (
            lambda: next(text.seq_data_iter_random(range(5), 2, 3)),
            ValueError,
            r"at least batch_size \* num_steps",
        )
    ],
    "text.seq_data_iter_consecutive": [
        (
            lambda: next(text.seq_data_iter_consecutive(range(50), 2, 3, offset=4)),
            ValueError,
            r"offset in \[0, 3\]",
        )
    ],
    # --------------------------------------------------------------------------- timing
    "timing.Timing": [
        (lambda: timing.Timing((0.1, -1.0)), ValueError, r"finite times in \[0, inf\)")
    ],
    "timing.format_seconds": [
        (
            lambda: timing.format_seconds(math.nan),
            ValueError,
            r"finite number of seconds in \[0, inf\)",
        )
    ],
    "timing.measure": [
        (lambda: timing.measure(lambda: None, repeats=0), ValueError, r"integer repeats >= 1"),
        (lambda: timing.measure("f"), ValueError, r"expected callables fn"),
    ],
    # --------------------------------------------------------------------------- training
    "training.full_scale": [
        (
            lambda: _with_env("COMPANION_SCALE", "huge", training.full_scale),
            ValueError,
            r"must be 'cpu' or 'full'",
        )
    ],
    "training.steps_per_epoch": [
        (lambda: training.steps_per_epoch(100, 0), ValueError, r"positive integer batch_size")
    ],
    "training.epochs_for_steps": [
        (
            lambda: training.epochs_for_steps(100, 10, steps=0),
            ValueError,
            r"positive integer number of steps",
        )
    ],
    "training.seed_all": [
        (lambda: training.seed_all(-1), ValueError, r"non-negative integer seed")
    ],
    "training.History": [
        (lambda: training.History().last(), ValueError, r"expected at least one append\(\)"),
        (lambda: _history().last("val_acc"), ValueError, r"expected metric in"),
    ],
    "training.accuracy": [
        (
            lambda: training.accuracy(np.ones((3, 2)), np.ones(2)),
            ValueError,
            r"expected logits \(N, C\) and labels \(N,\)",
        )
    ],
    "training.evaluate_torch": [
        (
            lambda: training.evaluate_torch(_linear(), _empty_loader(), None),
            ValueError,
            r"data_iter yielded no examples: expected at least one \(X, y\) batch",
        )
    ],
    "training.train_torch": [
        (
            lambda: training.train_torch(_linear(), [], None, None, epochs=0, optimizer=None),
            ValueError,
            r"positive integer number of epochs",
        )
    ],
    "training.evaluate_mxnet": [
        (
            lambda: training.evaluate_mxnet(_mx_dense(), _empty_loader(), None),
            ValueError,
            r"data_iter yielded no examples: expected at least one \(X, y\) batch",
        )
    ],
    "training.train_mxnet": [
        (
            lambda: training.train_mxnet(_mx_dense(), [], None, None, epochs=1.5, trainer=None),
            ValueError,
            r"positive integer number of epochs",
        )
    ],
}


def _stats() -> seeds.SeedStats:
    return seeds.SeedStats((0, 1, 2, 3, 4), (0.1, 0.2, 0.3, 0.2, 0.2))


def _write(tmp: Path, content: str) -> Path:
    path = tmp / "book.txt"
    path.write_text(content)
    return path


def _exit_clean(context) -> None:
    """Enter and leave ``expect_mismatch()`` with nothing mismatching inside."""
    with context:
        pass


def _with_env(name: str, value: str, fn):
    import os

    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return fn()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def test_every_public_name_has_a_bad_input_case():
    api = set(public_api())
    missing = sorted(api - set(BAD_INPUT) - set(NO_BAD_INPUT))
    assert not missing, f"public names without a bad-input case in BAD_INPUT: {missing}"
    stale = sorted((set(BAD_INPUT) | set(NO_BAD_INPUT)) - api)
    assert not stale, f"BAD_INPUT / NO_BAD_INPUT name things that are not public API: {stale}"
    assert not set(BAD_INPUT) & set(NO_BAD_INPUT)
    assert all(BAD_INPUT.values()), "every entry of BAD_INPUT needs at least one case"


CASES = [(name, i) for name in sorted(BAD_INPUT) for i in range(len(BAD_INPUT[name]))]


@pytest.mark.parametrize("name, i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_bad_input_is_rejected_with_a_message(name, i, tmp_path):
    call, error, pattern = BAD_INPUT[name][i]
    with pytest.raises(error) as info:
        call(tmp_path) if call.__code__.co_argcount else call()
    assert re.search(pattern, str(info.value)), f"{name}: message {str(info.value)!r}"
