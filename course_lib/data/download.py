"""Fetch and unpack a real dataset (for Colab), safely.

``download(name, dest)`` fetches the archive from a configured URL (``DATASETS`` registry, or the ``url``
argument; ``file://`` URLs work too), verifies its SHA-256, and unpacks it with :func:`safe_extract`, which
refuses -- before writing anything -- any archive member that would land outside ``dest`` (absolute paths,
``..`` components, symbolic or hard links pointing outside, device files). Where no URL is known or the network
cannot be reached, it raises :class:`DatasetUnavailable` with the folder layout to create by hand.

The registry URLs are None on purpose: neither dataset has a stable, licence-cleared direct link we could pin.
Pass ``url=`` (and ``sha256=``) for a copy you are allowed to use; see data/README.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

from .folders import EPFL_LAYOUT_HELP, VCIP_LAYOUT_HELP

__all__ = ["DATASETS", "DatasetUnavailable", "download", "safe_extract", "sha256_of"]


class DatasetUnavailable(FileNotFoundError):
    """The dataset cannot be fetched here (no URL known, or offline); the message says where to put the files."""


#: Known datasets: where they come from and the layout the loaders expect. url/sha256 None = not known to us.
DATASETS: dict[str, dict] = {
    "vcip2020": {
        "title": "VCIP 2020 Grand Challenge on NIR-to-RGB spectral domain translation (372 train / 28 test pairs)",
        "homepage": "the VCIP 2020 Grand Challenge page (organisers' download link after registration)",
        "url": None,
        "sha256": None,
        "folder": "vcip2020",
        "layout": VCIP_LAYOUT_HELP,
        "loader": "VCIP2020",
    },
    "epfl": {
        "title": "EPFL RGB-NIR Scene dataset (nirscene1; Brown & Süsstrunk, CVPR 2011; 477 pairs, 9 categories)",
        "homepage": "https://ivrl.epfl.ch/research-2/research-current/research-downloads/",
        "url": None,
        "sha256": None,
        "folder": "nirscene1",
        "layout": EPFL_LAYOUT_HELP,
        "loader": "EPFLNirScene",
    },
}


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _manual_help(name: str, dest: Path) -> str:
    info = DATASETS.get(name)
    if info is None:
        return f"put the files under {dest} by hand"
    root = dest / info["folder"]
    return (f"get it from {info['homepage']} and unpack it by hand so that ROOT = {root} holds {info['layout']}; "
            f"then open it with {info['loader']}({str(root)!r}) or open_dataset({str(root)!r}). See data/README.md.")


def download(name: str, dest: str | Path, url: str | None = None, sha256: str | None = None) -> Path:
    """Fetch dataset ``name`` into ``dest``, verify it, unpack it safely; returns ``dest``.

    ``url``/``sha256`` override the registry (``DATASETS``). The archive is kept as
    ``dest/.downloads/<file>``; an archive already there whose SHA-256 matches is not fetched again. Without a
    known ``sha256`` the archive is accepted and its hash printed in a warning, so you can pin it.

    Raises DatasetUnavailable (a FileNotFoundError) saying where to put the files by hand when no URL is known or
    the URL cannot be reached; ValueError for an unknown name without a URL, a SHA-256 mismatch (naming the file,
    expected and actual hash), or an unsafe archive member (see :func:`safe_extract`).
    """
    dest = Path(dest)
    info = DATASETS.get(name)
    if info is None and url is None:
        raise ValueError(f"unknown dataset name {name!r}; expected one of {', '.join(DATASETS)} (or pass url=)")
    url = url or (info or {}).get("url")
    sha256 = (sha256 or (info or {}).get("sha256") or "").lower() or None
    if url is None:
        raise DatasetUnavailable(f"no download URL is known for dataset {name!r}; {_manual_help(name, dest)}")
    filename = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name or f"{name}.archive"
    cache = dest / ".downloads"
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / filename
    if not (archive.is_file() and sha256 is not None and sha256_of(archive) == sha256):
        partial = archive.with_name(archive.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {filename}") as bar:
                    while block := response.read(1 << 20):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError) as err:
            partial.unlink(missing_ok=True)
            raise DatasetUnavailable(f"could not fetch {url} for dataset {name!r} ({err}); "
                                     f"{_manual_help(name, dest)}") from err
        os.replace(partial, archive)
    actual = sha256_of(archive)
    if sha256 is not None and actual != sha256:
        archive.unlink(missing_ok=True)
        raise ValueError(f"SHA-256 of {archive} (from {url}) is {actual}; expected {sha256}. The file was deleted; "
                         "the download is corrupt or not the expected release.")
    if sha256 is None:
        warnings.warn(f"no SHA-256 given for {name!r}; the downloaded archive {archive} has SHA-256 {actual} "
                      "(pass sha256= to pin it)", stacklevel=2)
    safe_extract(archive, dest)
    return dest


# --------------------------------------------------------------------------------------------------------------
# Safe extraction
# --------------------------------------------------------------------------------------------------------------
def _inside(dest: Path, relative: str) -> bool:
    """Whether ``dest/relative`` stays inside ``dest`` after normalising ``..`` (lexically: nothing exists yet)."""
    target = os.path.normpath(os.path.join(str(dest), relative))
    return target == str(dest) or target.startswith(str(dest) + os.sep)


def _check_name(archive: Path, dest: Path, name: str) -> None:
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[0].isalpha() and posix[1] == ":"):
        raise ValueError(f"refusing to extract member {name!r} of {archive}: absolute path; expected paths "
                         f"relative to {dest}")
    if not _inside(dest, posix):
        raise ValueError(f"refusing to extract member {name!r} of {archive}: its '..' components would place it "
                         f"outside {dest}")


def _check_link(archive: Path, dest: Path, name: str, target: str, hard: bool) -> None:
    posix = target.replace("\\", "/")
    # Hard-link targets are relative to the archive root, symlink targets to the link's folder.
    where = posix if hard else os.path.join(os.path.dirname(name.replace("\\", "/")), posix)
    if posix.startswith("/") or (len(posix) > 1 and posix[0].isalpha() and posix[1] == ":") or not _inside(dest, where):
        kind = "hard link" if hard else "symbolic link"
        raise ValueError(f"refusing to extract member {name!r} of {archive}: {kind} to {target!r} points outside "
                         f"{dest}")


def safe_extract(archive: str | Path, dest: str | Path) -> list[str]:
    """Unpack a zip or tar archive (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz) into ``dest``; returns member names.

    Every member is checked before anything is written; a member that would land outside ``dest`` (absolute
    path, ``..``, a symbolic/hard link pointing outside) or a device/FIFO member raises ValueError naming the
    member. FileNotFoundError if the archive is missing, ValueError if it is neither zip nor tar.
    """
    archive = Path(archive)
    dest_path = Path(dest)
    if not archive.is_file():
        raise FileNotFoundError(f"archive {archive} does not exist")
    dest_path.mkdir(parents=True, exist_ok=True)
    dest_real = Path(os.path.realpath(dest_path))
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                _check_name(archive, dest_real, info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    _check_link(archive, dest_real, info.filename, zf.read(info).decode("utf-8", "replace"), False)
            for info in infos:
                # Written by hand at the normalised path (zipfile.extract would silently rewrite '..' parts). A
                # symlink member becomes a small file holding its target, which is harmless inside dest.
                target = Path(os.path.normpath(os.path.join(dest_real, info.filename.replace("\\", "/"))))
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            return [i.filename for i in infos]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_name(archive, dest_real, m.name)
                if m.issym() or m.islnk():
                    _check_link(archive, dest_real, m.name, m.linkname, m.islnk())
                elif not (m.isfile() or m.isdir()):
                    raise ValueError(f"refusing to extract member {m.name!r} of {archive}: it is a device or FIFO, "
                                     "expected regular files and folders")
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest_real, members=members, filter="data")
            else:  # pragma: no cover - Python < 3.11.4; every member was checked above
                tf.extractall(dest_real, members=members)
            return [m.name for m in members]
    raise ValueError(f"archive {archive} is neither a zip nor a tar file; expected .zip, .tar, .tar.gz, .tgz, "
                     ".tar.bz2 or .tar.xz")

