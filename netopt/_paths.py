"""File names in GBK bytes (a Chinese Windows archive unzipped on Linux): opened through ASCII links, shown in Chinese."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

SURROGATES = ("\udc80", "\udcff")  # how Python holds a file name's bytes that are not UTF-8 (surrogateescape)


def foreign(text: str | os.PathLike) -> bool:
    """Whether a file name holds bytes that are not UTF-8, which GDAL, SQLite and UTF-8 files cannot take as text
    (Python keeps them as surrogate escapes)."""
    return any(SURROGATES[0] <= character <= SURROGATES[1] for character in str(text))


NAME_BREAKS = re.compile(r"([\x00-\x3f]+)")  # characters no GBK character's bytes hold: /, spaces, digits …


def readable(text: str | os.PathLike) -> str:
    """A file name (or a text holding one) as a person reads it: each name in it holding bytes that are not UTF-8
    decoded as GBK (GB18030), as a Chinese Windows wrote it — 合肥数据 for b'\\xba\\xcf\\xb7\\xca…' —, else
    those bytes shown as ?."""
    text = str(text)
    if not foreign(text):
        return text
    return "".join(_decoded(part) if foreign(part) else part for part in NAME_BREAKS.split(text))


def _decoded(name: str) -> str:
    raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace").replace("\ufffd", "?")


@contextmanager
def gdal_path(path: str | os.PathLike) -> Iterator[Path]:
    """A path GDAL can open for the file `path`: itself, or where its name holds bytes that are not UTF-8, links
    to it and to the files beside it of its name (a Shapefile's .dbf, .shx, .cpg …) in a temporary folder."""
    path = Path(path)
    if not foreign(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="netopt-") as folder:
        stem = path.name[: len(path.name) - len(path.suffix)] if path.suffix else path.name
        for sibling in path.parent.iterdir() if path.parent.is_dir() else ():
            if sibling.name == path.name or (sibling.name.startswith(stem + ".") and sibling.is_file()):
                (Path(folder) / f"file{sibling.name[len(stem):]}").symlink_to(sibling.resolve())
        yield Path(folder) / f"file{path.name[len(stem):]}"


def write_through(tmp: Path, write: Callable[[Path], None]) -> None:
    """`write` the file `tmp`: where its folder or name holds bytes that are not UTF-8, which GDAL and SQLite cannot
    name, made in a temporary folder first and copied there."""
    if not foreign(tmp):
        write(tmp)
        return
    with tempfile.TemporaryDirectory(prefix="netopt-") as folder:
        made = Path(folder) / f"file{tmp.suffix}"
        made.touch()
        write(made)
        shutil.copyfile(made, tmp)
