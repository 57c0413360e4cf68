"""Tests of companion.text. No network: downloads are simulated with monkeypatch."""

from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from companion import data, text

SMALL = "The Time Machine, by H. G. Wells\n\nI\nThe Time Traveller (for so...) was!\n"
SMALL_SHA1 = hashlib.sha1(SMALL.encode()).hexdigest()


def fake_download(content: str = SMALL):
    calls = []

    def download(url, dest, timeout=60.0):
        calls.append(url)
        Path(dest).write_text(content, encoding="utf-8")

    return download, calls


# --------------------------------------------------------------------------- the file


def test_download_into_cache_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "cache"))
    download, calls = fake_download()
    monkeypatch.setattr(text, "_download", download)
    path = text.time_machine_path(search=[], sha1=SMALL_SHA1)
    assert path == tmp_path / "cache" / "timemachine.txt"
    assert calls == [text.TIME_MACHINE_URL]
    assert text.time_machine_path(search=[], sha1=SMALL_SHA1) == path  # cached
    assert len(calls) == 1


def test_bad_download_is_deleted(tmp_path, monkeypatch):
    download, _ = fake_download("not the book")
    monkeypatch.setattr(text, "_download", download)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        text.time_machine_path(tmp_path, search=[], sha1=SMALL_SHA1)
    assert not (tmp_path / "timemachine.txt").exists()


def test_offline_message_says_what_to_do(tmp_path, monkeypatch):
    def offline(url, dest, timeout=60.0):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(text, "_download", offline)
    with pytest.raises(RuntimeError) as err:
        text.time_machine_path(tmp_path, search=[])
    msg = str(err.value)
    assert text.TIME_MACHINE_URL in msg and "COMPANION_DATA_DIR" in msg
    assert str(tmp_path / "timemachine.txt") in msg
    with pytest.raises(RuntimeError, match="download=False"):
        text.time_machine_path(tmp_path, download=False, search=[])


def test_wrong_cached_file_is_reported(tmp_path):
    (tmp_path / "timemachine.txt").write_text("something else")
    with pytest.raises(RuntimeError, match="wrong SHA-1"):
        text.time_machine_path(tmp_path, search=[], sha1=SMALL_SHA1)


def test_search_list_is_read_not_written(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "timemachine.txt").write_text(SMALL, encoding="utf-8")
    before = (shared / "timemachine.txt").stat().st_mtime_ns

    def no_download(url, dest, timeout=60.0):
        raise AssertionError("must not download")

    monkeypatch.setattr(text, "_download", no_download)
    path = text.time_machine_path(tmp_path / "cache", search=[shared], sha1=SMALL_SHA1)
    assert path == shared / "timemachine.txt"
    assert (shared / "timemachine.txt").stat().st_mtime_ns == before
    assert not (tmp_path / "cache").exists()


def test_shared_copy_is_the_book_file():
    folders = text.default_search()
    if not folders:
        pytest.skip("no ../shared/data beside this checkout")
    path = text.time_machine_path(tmp := Path("/nonexistent-cache"), download=False)
    assert path.parent == folders[0] and not tmp.exists()


# ------------------------------------------------------------------ tokens and vocab


def test_read_and_clean(tmp_path):
    p = tmp_path / "small.txt"
    p.write_text(SMALL, encoding="utf-8")
    lines = text.read_time_machine(p)
    assert lines == ["the time machine by h g wells", "", "i", "the time traveller for so was"]
    assert text.clean_line("  It's 3 o'clock!") == "it s o clock"


def test_tokenize_and_count():
    lines = ["the time", "a time"]
    assert text.tokenize(lines) == [["the", "time"], ["a", "time"]]
    assert text.tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]
    assert text.count_corpus(text.tokenize(lines))["time"] == 2
    assert text.count_corpus(["x", "y", "x"])["x"] == 2
    with pytest.raises(ValueError, match="'word' or 'char'"):
        text.tokenize(lines, "byte")


def test_vocab_order_unk_min_freq_reserved():
    tokens = [["b", "a", "b"], ["c", "a", "b"]]
    v = text.Vocab(tokens)
    assert v.idx_to_token == ["<unk>", "b", "a", "c"] and len(v) == 4
    assert v["b"] == 1 and v["zzz"] == v.unk == 0
    assert v[["a", "c", "q"]] == [2, 3, 0]
    assert v.to_tokens([1, 2]) == ["b", "a"] and v.to_tokens(3) == "c"
    v2 = text.Vocab(tokens, min_freq=2, reserved=["<pad>", "<eos>"])
    assert v2.idx_to_token == ["<unk>", "<pad>", "<eos>", "b", "a"]
    with pytest.raises(ValueError, match=r"index in \[0, 4\)"):
        v.to_tokens(4)
    with pytest.raises(ValueError, match="min_freq"):
        text.Vocab(tokens, min_freq=-1)


def test_ngrams():
    assert text.ngrams(list("abcd"), 2) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert text.ngrams(list("ab"), 3) == []
    with pytest.raises(ValueError, match="positive integer n"):
        text.ngrams(list("ab"), 0)


def test_load_corpus(tmp_path):
    p = tmp_path / "small.txt"
    p.write_text(SMALL, encoding="utf-8")
    corpus, vocab = text.load_corpus_time_machine("char", path=p)
    joined = "".join(vocab.to_tokens(corpus))
    assert joined.startswith("the time machine by h g wellsithe")
    words, wv = text.load_corpus_time_machine("word", max_tokens=3, path=p)
    assert wv.to_tokens(words) == ["the", "time", "machine"]


# --------------------------------------------------------------------------- samplers


@pytest.mark.parametrize("sampler", [text.seq_data_iter_random, text.seq_data_iter_consecutive])
def test_samplers_shapes_and_shift(sampler):
    corpus = np.arange(100)
    batches = list(sampler(corpus, 3, 5, rng=np.random.default_rng(0)))
    assert batches
    for x, y in batches:
        assert x.shape == y.shape == (3, 5) and x.dtype == np.int64
        np.testing.assert_array_equal(y, x + 1)  # corpus[i] = i: Y is X shifted by one


def test_random_sampler_uses_each_window_once():
    it = text.seq_data_iter_random(np.arange(100), 2, 5, offset=3, rng=np.random.default_rng(1))
    x = np.concatenate([b[0] for b in it])
    starts = sorted(x[:, 0])  # 97 tokens after the offset: 19 windows, 9 batches of 2
    assert len(set(starts)) == 18 and set(starts) <= set(range(3, 98, 5))


def test_consecutive_sampler_rows_continue():
    batches = list(text.seq_data_iter_consecutive(np.arange(100), 2, 5, offset=0))
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)
    assert len(batches) == 9


def test_sampler_bad_input():
    with pytest.raises(ValueError, match="1-D corpus"):
        next(text.seq_data_iter_random(np.zeros((4, 30)), 2, 3))
    with pytest.raises(ValueError, match="positive integer num_steps"):
        next(text.seq_data_iter_consecutive(np.arange(100), 2, 0))
    with pytest.raises(ValueError, match="at least"):
        next(text.seq_data_iter_random(np.arange(10), 2, 5))
    with pytest.raises(ValueError, match=r"offset in \[0, 5\]"):
        next(text.seq_data_iter_random(np.arange(100), 2, 5, offset=6))


def test_random_offsets_cover_exactly_zero_to_num_steps():
    """The later printings' ``randint(0, num_steps)`` includes both ends."""
    rng = np.random.default_rng(0)
    drawn = {text._offset(rng, None, 5) for _ in range(2000)}
    assert drawn == {0, 1, 2, 3, 4, 5}


def test_vocab_breaks_frequency_ties_alphabetically():
    assert text.Vocab([["b", "a"]]).idx_to_token[:3] == ["<unk>", "a", "b"]


def test_random_sampler_shuffles_with_its_seed():
    corpus = list(range(200))

    def first_rows(seed):
        batches = text.seq_data_iter_random(corpus, 2, 5, rng=np.random.default_rng(seed), offset=0)
        return [x[:, 0].tolist() for x, _ in batches]

    assert first_rows(0) == first_rows(0)
    assert first_rows(0) != first_rows(1)
    assert sorted(sum(first_rows(0), [])) != sum(first_rows(0), [])  # not in corpus order
