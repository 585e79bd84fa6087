"""The OR-Library readers of benchmarks/: the shared files read right, broken files give clear errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.orlib import OrlibFormatError, read_cap, read_pmed, read_scp, read_swain

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
needs_bench = pytest.mark.skipif(not BENCH.exists(), reason="../shared/bench not present")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_pmed_keeps_the_last_of_repeated_edges_and_takes_shortest_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "tiny.txt", "3 4 1\n1 2 5\n2 3 1\n1 2 9\n1 3 20\n")
    cost, p = read_pmed(path)
    assert p == 1
    assert cost[0, 1] == 9 and cost[0, 2] == 10 and cost[2, 0] == 10 and cost[1, 2] == 1


BROKEN_FILES = [  # (reader, file name, text, what the error must say)
    (read_pmed, "pmed38.txt", "900 8100 5\n1 2 30\n2 3 40\n",
     r"pmed38\.txt: the file ends at line 3 .*8100 edges.*truncated"),
    (read_pmed, "bad.txt", "3 2 1\n1 2 5\n2 x 1\n", r"bad\.txt, line 3: 'x' is not a number"),
    (read_pmed, "bad.txt", "3 1 1\n1 4 5\n", r"edge ends must lie in 1\.\.3"),
    (read_scp, "scp.txt", "2 3\n1 1 1\n2 1 3\n3 1\n", r"columns covering row 2"),
    (read_scp, "scp.txt", "1 3\n1 1 1\n1 4\n", r"column numbers must lie in 1\.\.3"),
    (read_swain, "swain.txt", "55\n1 2 3 4\n", r"swain\.txt: the file ends .*55 lines"),
]


@pytest.mark.parametrize("reader, name, text, message", BROKEN_FILES)
def test_broken_file_names_the_file_the_line_and_what_was_read(tmp_path: Path, reader, name: str, text: str,
                                                               message: str) -> None:
    with pytest.raises(OrlibFormatError, match=message):
        reader(_write(tmp_path, name, text))


def test_cap_with_the_word_capacity_needs_a_capacity(tmp_path: Path) -> None:
    text = "2 2\ncapacity 10\ncapacity 20\n5 1 2\n7 3 4\n"
    path = _write(tmp_path, "capx.txt", text)
    with pytest.raises(OrlibFormatError, match="give the capacity"):
        read_cap(path)
    data = read_cap(path, capacity=8000)
    assert data["capacity"].tolist() == [8000, 8000] and data["fixed_cost"].tolist() == [10, 20]
    assert data["demand"].tolist() == [5, 7] and data["allocation_cost"].tolist() == [[1, 2], [3, 4]]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OrlibFormatError, match="cannot read it"):
        read_scp(tmp_path / "nowhere.txt")


@needs_bench
def test_shared_files_read_to_their_documented_sizes() -> None:
    cost, p = read_pmed(BENCH / "orlib_pmed" / "pmed1.txt")
    assert cost.shape == (100, 100) and p == 5 and np.isfinite(cost).all()
    A, column_cost = read_scp(BENCH / "orlib_scp" / "scp41.txt")
    assert A.shape == (200, 1000) and len(column_cost) == 1000 and (A.sum(axis=1) > 0).all()
    data = read_cap(BENCH / "orlib_cap" / "cap41.txt")
    assert data["allocation_cost"].shape == (50, 16)
    xy, demand = read_swain(BENCH / "swain" / "swain.txt")
    assert xy.shape == (55, 2) and demand.sum() > 0


@needs_bench
def test_suite_finds_the_files_and_checks_them_against_the_published_optima(tmp_path: Path) -> None:
    from benchmarks.orlib_suite import instances, solve_instance, verdict

    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "pmed1.txt").write_bytes((BENCH / "orlib_pmed" / "pmed1.txt").read_bytes())
    (tmp_path / "scp41.txt").write_bytes((BENCH / "orlib_scp" / "scp41.txt").read_bytes())
    found = {row["instance"]: row for row in instances(tmp_path, ["*"])}
    assert set(found) == {"pmed1", "pcenter_pmed1", "scp41"}
    assert instances(tmp_path, ["scp*"])[0]["instance"] == "scp41"
    row = found["pmed1"]
    row.update(solve_instance(Path(row["path"]), "pmedian", None, None), known_status=row["status"])
    assert row["objective"] == 5819 and verdict(row) == "ok"
    row = found["pcenter_pmed1"]
    row.update(solve_instance(Path(row["path"]), "pcenter", None, None), known_status=row["status"])
    assert row["objective"] == 127 and verdict(row) == "ok"


def test_suite_verdicts() -> None:
    from benchmarks.orlib_suite import verdict

    def row(status: str, objective: float, known: float = 100.0, known_status: str = "optimal") -> dict:
        return {"status": status, "objective": objective, "known_value": known, "known_status": known_status}

    assert verdict(row("optimal", 100.0)) == "ok"
    assert verdict(row("optimal", 101.0)) == "WRONG"
    assert verdict(row("feasible", 100.0)) == "value ok, not proved"
    assert verdict(row("feasible", 103.0)) == "not reached"
    assert verdict(row("feasible", 100.0, known_status="best known")) == "ok"
    assert verdict(row("feasible", 99.0, known_status="best known")) == "better than best known"
    assert verdict(row("timeout", float("nan"))) == "failed"
