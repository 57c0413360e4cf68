"""Text for the sequence chapters: The Time Machine, tokens, vocabulary, samplers.

- [`time_machine_path`][]: the book's ``timemachine.txt`` (SHA-1 checked), found in the cache
  directory of [`companion.data.data_dir`][companion.data.data_dir] or in a search list (by default
  the developers' ``../shared/data`` beside the checkout, read only), else downloaded into the
  cache.
- [`read_time_machine`][]: its lines, cleaned as the book cleans them (letters only, lower case).
- [`tokenize`][], [`Vocab`][], [`count_corpus`][], [`ngrams`][]: tokens and counts.
- [`load_corpus_time_machine`][]: the corpus as token indices and its vocabulary.
- [`seq_data_iter_random`][], [`seq_data_iter_consecutive`][]: the book's two minibatch samplers
  (random sampling, sequential partitioning), yielding numpy int64 arrays.

Nothing here imports a deep learning framework.
"""

from __future__ import annotations

import collections
import re
import socket
import urllib.error
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .data import _download, _sha1, data_dir

TIME_MACHINE_NAME = "timemachine.txt"
TIME_MACHINE_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
_REPO_ROOT = Path(__file__).resolve().parents[1]
_OFFLINE_ERRORS = (
    urllib.error.URLError,
    socket.timeout,
    socket.gaierror,
    ConnectionError,
    TimeoutError,
)


def default_search() -> list[Path]:
    """Read-only folders searched after the cache: ``../shared/data``.

    ```python
    from companion.text import default_search

    assert all(p.name == "data" for p in default_search())   # ../shared/data, if present
    ```
    """
    shared = _REPO_ROOT.parent / "shared" / "data"
    return [shared] if shared.is_dir() else []


def _offline_message(cache: Path, reason: str) -> str:
    return (
        f"The Time Machine is not available ({reason}).\n"
        f"Download {TIME_MACHINE_URL} (SHA-1 {TIME_MACHINE_SHA1}) and put it at\n"
        f"  {cache}\n"
        "or set the environment variable COMPANION_DATA_DIR to a directory that "
        f"holds {TIME_MACHINE_NAME}, or pass its path to "
        "read_time_machine(path=...)."
    )


def time_machine_path(
    root: str | Path | None = None,
    download: bool = True,
    search: Iterable[str | Path] | None = None,
    sha1: str = TIME_MACHINE_SHA1,
) -> Path:
    """Path of a ``timemachine.txt`` whose SHA-1 is ``sha1``.

    Looks in the cache (``data_dir(root)``), then in ``search`` (default
    [`default_search`][]), never writing there; else downloads into the cache and
    checks the SHA-1. Raises RuntimeError saying what to do when the file cannot be had.

    ```python
    import hashlib, tempfile
    from pathlib import Path
    from companion.text import time_machine_path

    folder = Path(tempfile.mkdtemp())
    (folder / "timemachine.txt").write_text("The Time Machine")
    sha1 = hashlib.sha1(b"The Time Machine").hexdigest()
    found = time_machine_path(root=tempfile.mkdtemp(), search=[folder], sha1=sha1)
    assert found == folder / "timemachine.txt"          # found read-only, nothing copied
    ```
    """
    cache = data_dir(root) / TIME_MACHINE_NAME
    folders = default_search() if search is None else [Path(s) for s in search]
    for candidate in [cache, *(f / TIME_MACHINE_NAME for f in folders)]:
        if candidate.is_file() and _sha1(candidate) == sha1:
            return candidate
    if cache.is_file():
        raise RuntimeError(
            f"{cache} has the wrong SHA-1 (expected {sha1}, got "
            f"{_sha1(cache)}); delete it to download it again. "
            + _offline_message(cache, "bad file")
        )
    if not download:
        raise RuntimeError(_offline_message(cache, "file missing, download=False"))
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        _download(TIME_MACHINE_URL, cache)
    except _OFFLINE_ERRORS as exc:
        raise RuntimeError(_offline_message(cache, f"download failed: {exc}")) from exc
    actual = _sha1(cache)
    if actual != sha1:
        cache.unlink()
        raise RuntimeError(
            f"checksum mismatch: expected SHA-1 {sha1}, got {actual}; "
            "the file was deleted. " + _offline_message(cache, "bad download")
        )
    return cache


def clean_line(line: str) -> str:
    """The book's cleaning: non-letter runs become one space; strip; lower case.

    ```python
    from companion.text import clean_line

    assert clean_line("  The Time-Machine, by H. G. Wells!") == "the time machine by h g wells"
    ```
    """
    if not isinstance(line, str):
        raise TypeError(f"expected a line of text (str), got {type(line).__name__}: {line!r:.80}")
    return re.sub("[^A-Za-z]+", " ", line).strip().lower()


def read_time_machine(path: str | Path | None = None, **kwargs) -> list[str]:
    """The lines of The Time Machine (or of the text at ``path``), cleaned by
    [`clean_line`][]. Without ``path`` the file comes from [`time_machine_path`][]
    (``kwargs`` go there).

    ```python
    import tempfile
    from pathlib import Path
    from companion.text import read_time_machine

    path = Path(tempfile.mkdtemp()) / "book.txt"
    path.write_text("The Time Traveller (for so it will be convenient")
    assert read_time_machine(path) == ["the time traveller for so it will be convenient"]
    ```
    """
    path = Path(path) if path is not None else time_machine_path(**kwargs)
    with open(path, encoding="utf-8") as f:
        return [clean_line(line) for line in f]


def tokenize(lines: Sequence[str], token: str = "word") -> list[list[str]]:
    """Split each line into words (on spaces) or into characters.

    ```python
    from companion.text import tokenize

    assert tokenize(["the time", "machine"]) == [["the", "time"], ["machine"]]
    assert tokenize(["ab"], token="char") == [["a", "b"]]
    ```
    """
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"expected token 'word' or 'char', got {token!r}")


def _flatten(tokens: Iterable) -> list:
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], list):
        return [t for line in tokens for t in line]
    return tokens


def count_corpus(tokens: Iterable) -> collections.Counter:
    """Token frequencies of a flat token list or of a list of token lists.

    ```python
    from companion.text import count_corpus

    assert count_corpus([["a", "b"], ["a"]]) == {"a": 2, "b": 1}
    ```
    """
    if not hasattr(tokens, "__iter__"):
        raise ValueError(
            "expected a list of tokens or of token lists, got "
            f"{type(tokens).__name__}: {tokens!r:.80}"
        )
    return collections.Counter(_flatten(tokens))


def ngrams(tokens: Sequence, n: int) -> list[tuple]:
    """The ``n``-grams of a flat token sequence, as tuples, in order.

    ```python
    from companion.text import ngrams

    assert ngrams(["the", "time", "machine"], 2) == [("the", "time"), ("time", "machine")]
    ```
    """
    if int(n) != n or n < 1:
        raise ValueError(f"expected a positive integer n, got {n!r}")
    return list(zip(*(tokens[i:] for i in range(n))))


class Vocab:
    """Token <-> index, most frequent first (ties alphabetical); index 0 is ``<unk>``.

    ``reserved`` tokens (e.g. ``['<pad>', '<bos>', '<eos>']``) follow ``<unk>``; tokens
    seen fewer than ``min_freq`` times map to ``<unk>``.

    ```python
    from companion.text import Vocab

    vocab = Vocab(["b", "a", "b", "c"], reserved=["<pad>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "b", "a", "c"]
    assert vocab[["b", "zebra"]] == [2, 0]            # unknown tokens map to <unk>
    ```
    """

    def __init__(
        self, tokens: Iterable = (), min_freq: int = 0, reserved: Sequence[str] = ()
    ) -> None:
        if min_freq < 0:
            raise ValueError(f"expected min_freq >= 0, got {min_freq}")
        counter = count_corpus(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        self.idx_to_token = ["<unk>", *[t for t in reserved if t != "<unk>"]]
        seen = set(self.idx_to_token)
        self.idx_to_token += [t for t, f in self.token_freqs if f >= min_freq and t not in seen]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    unk = 0

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """Index or list of indices -> token(s); ValueError outside ``[0, len)``.

        ```python
        from companion.text import Vocab

        vocab = Vocab("hello")
        assert vocab.to_tokens([vocab["h"], vocab["l"]]) == ["h", "l"]
        ```
        """
        if isinstance(indices, (list, tuple, np.ndarray)):
            return [self.to_tokens(int(i)) for i in indices]
        if not 0 <= indices < len(self):
            raise ValueError(f"expected an index in [0, {len(self)}), got {indices}")
        return self.idx_to_token[indices]


def load_corpus_time_machine(
    token: str = "char", max_tokens: int = -1, path: str | Path | None = None
) -> tuple[list[int], Vocab]:
    """The Time Machine as a flat list of token indices and its vocabulary, as the book
    builds them: cleaned lines, the tokens of all lines concatenated, the vocabulary
    from those tokens. ``max_tokens > 0`` keeps the first ``max_tokens`` tokens (and
    builds the vocabulary from them only).

    ```python
    import tempfile
    from pathlib import Path
    from companion.text import load_corpus_time_machine

    path = Path(tempfile.mkdtemp()) / "book.txt"
    path.write_text("abba")
    corpus, vocab = load_corpus_time_machine(path=path)
    assert vocab.to_tokens(corpus) == ["a", "b", "b", "a"] and len(vocab) == 3
    ```
    """
    tokens = _flatten(tokenize(read_time_machine(path), token))
    if max_tokens > 0:
        tokens = tokens[:max_tokens]
    vocab = Vocab(tokens)
    return vocab[tokens], vocab


def _check_sampler(corpus: Sequence[int], batch_size: int, num_steps: int) -> np.ndarray:
    corpus = np.asarray(corpus)
    if corpus.ndim != 1:
        raise ValueError(f"expected a 1-D corpus of token indices, got shape {corpus.shape}")
    for name, v in (("batch_size", batch_size), ("num_steps", num_steps)):
        if int(v) != v or v < 1:
            raise ValueError(f"expected a positive integer {name}, got {v!r}")
    if len(corpus) < batch_size * num_steps + num_steps + 1:
        need = batch_size * num_steps + num_steps + 1
        raise ValueError(
            "expected a corpus of at least batch_size * num_steps + "
            f"num_steps + 1 = {need} tokens, got {len(corpus)}"
        )
    return corpus.astype(np.int64)


def _offset(rng: np.random.Generator | None, offset: int | None, num_steps: int) -> int:
    if offset is not None:
        if not 0 <= offset <= num_steps:
            raise ValueError(f"expected an offset in [0, {num_steps}], got {offset}")
        return int(offset)
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.integers(0, num_steps + 1))  # the book: random.randint(0, num_steps)


def seq_data_iter_random(
    corpus: Sequence[int],
    batch_size: int,
    num_steps: int,
    rng: np.random.Generator | None = None,
    offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Random sampling (the book's ``seq_data_iter_random``): drop a random offset in
    ``[0, num_steps]``, cut the rest into subsequences of ``num_steps``, shuffle them
    and yield (X, Y) of shape (batch_size, num_steps), Y shifted by one token. Leftovers
    are dropped.

    ```python
    from companion.text import seq_data_iter_random

    batches = list(seq_data_iter_random(list(range(30)), batch_size=2, num_steps=5, offset=0))
    assert len(batches) == 2 and batches[0][0].shape == (2, 5)
    assert all(((y - x) == 1).all() for x, y in batches)      # Y is X shifted by one token
    ```
    """
    corpus = _check_sampler(corpus, batch_size, num_steps)
    corpus = corpus[_offset(rng, offset, num_steps) :]
    num_examples = (len(corpus) - 1) // num_steps
    starts = np.arange(0, num_examples * num_steps, num_steps)
    (rng if rng is not None else np.random.default_rng()).shuffle(starts)
    for i in range(0, (num_examples // batch_size) * batch_size, batch_size):
        idx = starts[i : i + batch_size, None] + np.arange(num_steps)
        yield corpus[idx], corpus[idx + 1]


def seq_data_iter_consecutive(
    corpus: Sequence[int],
    batch_size: int,
    num_steps: int,
    rng: np.random.Generator | None = None,
    offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sequential partitioning (the book's ``seq_data_iter_consecutive``): after a
    random offset, split the corpus into ``batch_size`` parallel streams and yield
    consecutive windows: row i of one minibatch continues row i of the previous one.

    ```python
    from companion.text import seq_data_iter_consecutive

    (x1, _), (x2, _) = list(seq_data_iter_consecutive(list(range(30)), 2, 5, offset=0))[:2]
    assert x1.tolist() == [[0, 1, 2, 3, 4], [14, 15, 16, 17, 18]]
    assert x2[:, 0].tolist() == [5, 19]                       # each row continues itself
    ```
    """
    corpus = _check_sampler(corpus, batch_size, num_steps)
    start = _offset(rng, offset, num_steps)
    n = ((len(corpus) - start - 1) // batch_size) * batch_size
    xs = corpus[start : start + n].reshape(batch_size, -1)
    ys = corpus[start + 1 : start + 1 + n].reshape(batch_size, -1)
    for i in range(0, (xs.shape[1] // num_steps) * num_steps, num_steps):
        yield xs[:, i : i + num_steps], ys[:, i : i + num_steps]
