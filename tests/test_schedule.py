"""The order in which test files reach the workers (pagerun.schedule)."""

import json
import multiprocessing

from pagerun import schedule


def test_files_longest_first_unknown_first_and_blocks_in_order():
    ids = ["a.md::L1", "b.md::L1", "a.md::L5", "c.md::L2", "b.md::inventory"]
    out = schedule.longest_first(ids, nodeid=str, seconds={"a.md": 1.0, "b.md": 9.0})
    assert out == ["c.md::L2", "b.md::L1", "b.md::inventory", "a.md::L1", "a.md::L5"]


def test_equal_times_keep_the_collection_order():
    ids = ["x.md::L1", "y.md::L1", "z.md::L1"]
    assert schedule.longest_first(ids, nodeid=str, seconds=dict.fromkeys("xyz", 0)) == ids


def test_measured_seconds_override_the_committed_table(tmp_path, monkeypatch):
    committed, measured = tmp_path / "committed.json", tmp_path / "cache" / "measured.json"
    committed.write_text(json.dumps({"a.md": 5.0, "b.md": 1.0}))
    monkeypatch.setattr(schedule, "COMMITTED", committed)
    monkeypatch.setattr(schedule, "MEASURED", measured)
    assert schedule.expected_seconds() == {"a.md": 5.0, "b.md": 1.0}
    schedule.record({"b.md": 7.123})
    schedule.record({})  # a run that measured nothing leaves the table as it is
    assert schedule.expected_seconds() == {"a.md": 5.0, "b.md": 7.12}
    ids = ["a.md::L1", "b.md::L1"]
    assert schedule.longest_first(ids, nodeid=str) == ["b.md::L1", "a.md::L1"]


def _record_one(args: tuple) -> None:
    path, name = args
    schedule.MEASURED = path
    schedule.record({name: 1.0})


def test_runs_that_record_at_once_lose_no_entry(tmp_path):
    measured = tmp_path / "measured.json"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_record_one, [(measured, f"p{i}.md") for i in range(40)])
    assert sorted(json.loads(measured.read_text())) == sorted(f"p{i}.md" for i in range(40))
    assert not list(tmp_path.glob("*.tmp"))


def test_an_unreadable_table_counts_as_empty(tmp_path, monkeypatch):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    monkeypatch.setattr(schedule, "COMMITTED", bad)
    monkeypatch.setattr(schedule, "MEASURED", tmp_path / "absent.json")
    assert schedule.expected_seconds() == {}


def test_xdist_does_not_reorder_the_files_by_test_count(pytestconfig):
    assert getattr(pytestconfig.option, "loadscopereorder", False) is False


def test_the_committed_table_is_readable_and_covers_the_pages():
    table = json.loads(schedule.COMMITTED.read_text())
    pages = [p.relative_to(schedule.ROOT).as_posix() for p in schedule.ROOT.glob("docs/**/*.md")]
    assert all(isinstance(s, float) and s >= 0 for s in table.values())
    assert sum(p in table for p in pages) > len(pages) // 2  # refreshed now and then
