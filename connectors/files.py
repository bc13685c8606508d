"""Saving what an outside system sends under a name this side chooses, inside the folder it is given.

    check_outside_name(file.file_name)              # UnsafeName for `../x`, `a/b`, `/etc/x`, `C:x`, NUL ...
    local = local_name("icbc", account, day, "v2", suffix_of(file.file_name))  # icbc_3456_20260301_v2.csv
    path = inside(folder, local)                     # folder / local, or UnsafeName if it resolves elsewhere
    path = name_by_content(path)                     # icbc_3456_20260301_v2_<sha256[:16]>.csv

A name a bank, the fund centre or a mail server sends is an identifier to ask for, never a path: every
client that saves a file derives the local name itself (`local_name`: only letters, digits, `-` and
`.` from each part, joined by `_`), checks the outside name (`check_outside_name`, so a hostile
listing is refused loudly rather than silently renamed) and opens the file only through `inside`,
which resolves the path and refuses one that is not in the folder (a symlink in the folder included).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

_UNSAFE_PART = re.compile(r"[^0-9A-Za-z.-]+")
KNOWN_SUFFIXES = (".csv", ".xls", ".xlsx", ".txt", ".json", ".zip", ".pdf", ".docx")
MAX_NAME = 200


class UnsafeName(ValueError):
    """A name from outside that would be a path, or a path that leaves its folder."""


def check_outside_name(name: object) -> str:
    """`name` if it is a plain file name; `UnsafeName` (saying why) for a separator, `..`, an absolute or
    drive path, a control character, an empty or over-long name."""
    if not isinstance(name, str) or not name.strip():
        raise UnsafeName(f"expected a file name, got {name!r}")
    why = None
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        why = "a control character"
    elif "/" in name or "\\" in name:
        why = "a path separator"
    elif name in (".", "..") or ".." in PurePosixPath(name).parts:
        why = "a parent-folder part (..)"
    elif PureWindowsPath(name).drive or PureWindowsPath(name).is_absolute() or ":" in name:
        why = "a drive or stream (:)"
    elif len(name) > MAX_NAME:
        why = f"more than {MAX_NAME} characters"
    if why:
        raise UnsafeName(f"expected a plain file name, got {name[:80]!r} with {why}: refused, nothing saved")
    return name


def suffix_of(name: str, default: str = ".dat") -> str:
    """The known suffix of an outside name (lower case), else `default`: never more than that is kept."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return suffix if suffix in KNOWN_SUFFIXES else default


def local_name(*parts: object, suffix: str = "") -> str:
    """A file name made of `parts` (each reduced to letters, digits, `-` and `.`; dots not leading),
    joined by `_`, with `suffix`."""
    cleaned = [_UNSAFE_PART.sub("-", str(part)).strip(".-") for part in parts if part is not None and str(part)]
    name = "_".join(part for part in cleaned if part) or "file"
    return check_outside_name(name[: MAX_NAME - len(suffix)] + suffix)


def inside(folder: str | Path, name: str) -> Path:
    """`folder / name`, after checking `name` and that the resolved path is in the resolved folder."""
    check_outside_name(name)
    root = Path(folder).resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise UnsafeName(f"expected {name!r} to stay inside {root}, got {path}: refused, nothing saved")
    return path


def name_by_content(path: Path, digits: int = 16) -> Path:
    """Rename `path` (in its folder) to carry the first `digits` of its SHA-256 before the suffix; an
    existing file of that name has the same content and is replaced."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    target = inside(path.parent, f"{path.stem}_{digest.hexdigest()[:digits]}{path.suffix}")
    path.replace(target)
    return target
