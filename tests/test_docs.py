"""The Python snippets of docs/*.md, read as a user would with `no` and the sample `ds`: every name defined, and
(opt-in, make test-slow) each run as a script."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PREAMBLE = "import netopt as no\nfrom netopt.grid import population_grid\n\nds = no.load_sample()\n"
NEEDS_OWN_FILES = {"coverage-1": "a road network file of the user's own city (roads.osm.bz2)"}


def snippets() -> list[tuple[str, str]]:
    """(docs page and block number, code) for each ```python block of docs/*.md."""
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
        found += [(f"{page.stem}-{k}", block) for k, block in enumerate(blocks, 1)]
    return found


def _script(tmp_path: Path, code: str) -> Path:
    script = tmp_path / "snippet.py"
    script.write_text(PREAMBLE + code, encoding="utf-8")
    return script


SNIPPETS = snippets()
NAMES = [name for name, _ in SNIPPETS]


def test_the_docs_have_snippets():
    assert len(SNIPPETS) >= 5 and set(NEEDS_OWN_FILES) <= set(NAMES)


@pytest.mark.parametrize("name, code", SNIPPETS, ids=NAMES)
def test_snippet_names_are_defined(name: str, code: str, tmp_path: Path):
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F821,E9",
                              "--output-format", "concise", str(_script(tmp_path, code))],
                             capture_output=True, text=True)
    assert checked.returncode == 0, f"docs snippet {name}:\n{checked.stdout}{checked.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("name, code", SNIPPETS, ids=NAMES)
def test_snippet_runs(name: str, code: str, tmp_path: Path):
    if name in NEEDS_OWN_FILES:
        pytest.skip(f"needs {NEEDS_OWN_FILES[name]}")
    (tmp_path / "data").symlink_to(ROOT / "data")
    ran = subprocess.run([sys.executable, str(_script(tmp_path, code))], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert ran.returncode == 0, f"docs snippet {name}:\n{ran.stderr[-3000:]}"
