"""Writing a command's files into ``--out``: all of them or none, never half a set.

Every problem is found before anything is written: ``--out`` that is a file, a target name
that is a directory. The files are then written into a scratch folder inside the output
folder (same file system) and renamed into place one by one; a missing output folder (and
its parents) is created, and removed again when the write fails.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from lanes.cli.exits import CommandError

__all__ = ["write_files"]


def _missing_parents(directory: Path) -> list[Path]:
    """``directory`` and its ancestors that do not exist yet, outermost first."""
    missing = []
    for path in [directory, *directory.parents]:
        if path.exists():
            break
        missing.append(path)
    return missing[::-1]


def _check(directory: Path, names: list[str]) -> None:
    for path in [directory, *directory.parents]:
        if path.exists() and not path.is_dir():
            raise CommandError(f"{path}: --out is not a directory")
    for name in names:
        target = directory / name
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise CommandError(f"{target}: not a plain file, so --out cannot replace it")


def write_files(directory: Path, files: dict[str, str]) -> None:
    """Write ``files`` (name -> text) into ``directory``, all or none; CommandError otherwise
    (its message names the path; the command says that nothing was written)."""
    names = sorted(files)
    _check(directory, names)
    created = _missing_parents(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=directory, prefix=".lanes-out-"))
        try:
            for name in names:
                (scratch / name).write_text(files[name], encoding="utf-8", newline="")
            for name in names:
                (scratch / name).replace(directory / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        for path in reversed(created):
            shutil.rmtree(path, ignore_errors=True)
        raise CommandError(f"{directory}: --out: {exc.strerror or exc}") from None
