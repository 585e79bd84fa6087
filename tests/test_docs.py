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


def _command_lines() -> list[tuple[str, str]]:
    """(page, command line) for each `netopt …` line of README.md and docs/*.md: in shell blocks (a comment cut
    off) and in inline code."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        fenced = False
        for line in page.read_text(encoding="utf-8").splitlines():
            fenced ^= line.startswith("```")
            if fenced and line.startswith("netopt "):
                found.append((page.name, line.split("#")[0].strip()))
            elif not fenced:
                found += [(page.name, snippet) for snippet in re.findall(r"`(netopt [a-z][^`]*)`", line)]
    return found


def test_every_command_line_in_the_docs_names_real_options():
    """A command or option the docs show but netopt lacks (renamed, or never made) fails here, not for a user."""
    import typer

    from netopt.cli import app

    commands = typer.main.get_command(app).commands
    lines = _command_lines()
    wrong = []
    for page, line in lines:
        command = commands.get(line.split()[1])
        if command is None:
            wrong.append(f"{page}: {line} (no command {line.split()[1]})")
            continue
        options = {name for param in command.params for name in (*param.opts, *param.secondary_opts)} | {"--help"}
        wrong += [f"{page}: {line} ({option})" for option in re.findall(r"(?<!\S)--[a-z][a-z0-9-]*", line)
                  if option not in options]
    assert len(lines) > 50 and not wrong, "\n".join(wrong)


def test_the_diagnosis_line_the_docs_quote_is_the_samples():
    """README and docs/coverage.md quote what print(cov) says of the sample: the quote follows the code."""
    import netopt as no

    line = repr(no.analyze_coverage(no.load_sample(), radius_km={"core": 1.2, "county": 3.5}))
    said = line.split("branches; ")[1].rstrip(")")  # covered 90.4% — core …; 41 underserved towns
    for page in (ROOT / "README.md", ROOT / "docs" / "coverage.md"):
        text = " ".join(page.read_text(encoding="utf-8").split())
        assert said in text, f"{page.name} quotes another diagnosis than the sample's: {said}"


def test_every_link_between_the_docs_leads_to_a_file():
    """A relative link of README.md or docs/*.md ([inputs.md](inputs.md), ../examples/…) names a file that exists."""
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, "\n".join(broken)
