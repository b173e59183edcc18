"""Fetch the paper's two real datasets (for Colab): verified, resumable, and unpacked safely.

- ``download("vcip2020", root)``: the VCIP 2020 NIR-to-RGB challenge data from its public mirror, the folder
  ``datasets/`` of github.com/AlexYangxx/MCFNet at the pinned commit ``VCIP_COMMIT``, fetched file by file from
  ``VCIP_BASE_URL`` (``raw.githubusercontent.com``) by a few worker threads. Every file is checked (size and
  SHA-256) against the manifest shipped in the package (``course_lib/data/manifests/vcip2020.tsv``, 845 files)
  and lands at ``root/<path without datasets/>``: ``root/NIR/``, ``root/RGB-Registered/`` (split "train"),
  ``root/Validation/`` ("val"), ``root/Testing/`` ("test", ``Testing/visual/`` included). A file already there
  with the right size and hash is not fetched again, so running it again resumes an interrupted download.
- ``download("epfl", root)``: ``nirscene1.zip`` of the EPFL RGB-NIR Scene dataset (Brown & Süsstrunk, CVPR
  2011; ``EPFL_URL``, ``EPFL_SIZE`` bytes) into ``root/.downloads/``, resumable with HTTP ``Range`` requests,
  size-checked, its SHA-256 printed (and checked when pinned with ``sha256=``), then unpacked with
  :func:`safe_extract` into a temporary folder inside ``root`` and moved to ``root/nirscene1/``.

Every download goes to a temporary file next to its destination and is renamed into place only once its size
and hash are right, so a truncated or tampered download never replaces a good copy. Transient network errors
(refused or dropped connections, timeouts, HTTP 429/5xx) are retried, resuming where the data stopped. When the
source cannot be reached, :class:`DatasetUnavailable` (a FileNotFoundError) says where to put the files by hand;
a file that does not match its expected size or hash raises ValueError naming the file, the URL, and the
expected and actual size and hash.

:func:`safe_extract` unpacks zip/tar archives and refuses -- before writing anything -- any member that would
land outside the destination (absolute paths, ``..`` components, links pointing outside, device files).
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.resources
import os
import re
import shutil
import stat
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Iterable, NamedTuple

from tqdm.auto import tqdm

from .folders import EPFL_CATEGORIES, EPFL_LAYOUT_HELP

__all__ = [
    "DATASETS", "DatasetUnavailable", "download", "download_vcip2020", "download_epfl", "read_manifest",
    "manifest_path", "ManifestEntry", "safe_extract", "sha256_of",
    "VCIP_COMMIT", "VCIP_BASE_URL", "VCIP_SPLITS", "EPFL_URL", "EPFL_SIZE",
]


class DatasetUnavailable(FileNotFoundError):
    """The dataset cannot be fetched here (offline, or the source is gone); the message says where to put the
    files by hand."""


# --------------------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------------------
VCIP_REPO = "AlexYangxx/MCFNet"
VCIP_COMMIT = "be885bd2e1b928be2115bd74217143657e0558f5"
VCIP_BASE_URL = f"https://raw.githubusercontent.com/{VCIP_REPO}/{VCIP_COMMIT}/datasets/"
VCIP_BROWSE_URL = f"https://github.com/{VCIP_REPO}/tree/{VCIP_COMMIT}/datasets"
#: split -> the folders of the mirror's datasets/ it is made of
VCIP_SPLITS: dict[str, tuple[str, ...]] = {"train": ("NIR", "RGB-Registered"), "val": ("Validation",),
                                           "test": ("Testing",)}
VCIP_LAYOUT = ("ROOT/NIR/*_nir.png + ROOT/RGB-Registered/*_rgb_reg.png (train), ROOT/Validation/ (val), "
               "ROOT/Testing/ with Testing/visual/ (test)")

EPFL_URL = "https://ivrlwww.epfl.ch/supplementary_material/cvpr11/nirscene1.zip"
EPFL_SIZE = 952_431_486
EPFL_PAGE = "https://ivrl.epfl.ch/research-2/research-current/research-downloads/"

#: Known datasets: where they come from and the layout the loaders expect.
DATASETS: dict[str, dict] = {
    "vcip2020": {
        "title": "VCIP 2020 Grand Challenge on NIR-to-RGB spectral domain translation (372 train pairs, "
                 "validation and test sets), as mirrored in github.com/AlexYangxx/MCFNet",
        "homepage": VCIP_BROWSE_URL,
        "url": VCIP_BASE_URL,
        "commit": VCIP_COMMIT,
        "manifest": "vcip2020.tsv",  # course_lib/data/manifests/: path, bytes, sha256 of each of the 845 files
        "layout": VCIP_LAYOUT,
        "loader": "VCIP2020",
    },
    "epfl": {
        "title": "EPFL RGB-NIR Scene dataset (nirscene1; Brown & Süsstrunk, CVPR 2011; 477 pairs, 9 categories)",
        "homepage": EPFL_PAGE,
        "url": EPFL_URL,
        "size": EPFL_SIZE,
        # Not pinned: we could not fetch the 952 MB archive where this was written, so its SHA-256 is unknown to
        # us. download() prints the hash it gets; pin it with sha256= / --sha256 once you have checked a copy.
        "sha256": None,
        "folder": "nirscene1",
        "layout": EPFL_LAYOUT_HELP,
        "loader": "EPFLNirScene",
    },
}

USER_AGENT = "course_lib-download/1.0 (+python urllib)"
CHUNK = 1 << 16
#: first pause between two tries after a transient network error, in seconds; doubled at each further try
RETRY_WAIT_S = 1.0
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------------------------
class ManifestEntry(NamedTuple):
    """One file of a manifest: ``path`` as in the mirror (``datasets/NIR/x.png``), its size and SHA-256."""

    path: str
    size: int
    sha256: str

    @property
    def relpath(self) -> str:
        """Where the file lands below the download root: ``path`` without its leading ``datasets/``."""
        return self.path.split("/", 1)[1]

    @property
    def split(self) -> str:
        """"train", "val" or "test", from the file's folder (see ``VCIP_SPLITS``)."""
        folder = self.relpath.split("/", 1)[0]
        return next(s for s, folders in VCIP_SPLITS.items() if folder in folders)


def manifest_path(name: str = "vcip2020"):
    """The manifest shipped in the package (an ``importlib.resources`` Traversable; ``.read_text()`` reads it)."""
    return importlib.resources.files(__package__) / "manifests" / f"{name}.tsv"


def read_manifest(path: str | Path | None = None) -> list[ManifestEntry]:
    """Entries of a manifest (TSV: ``path<TAB>bytes<TAB>sha256``, ``#`` comment lines); default: the shipped one.

    Paths must be relative, start with ``datasets/`` followed by one of the folders of ``VCIP_SPLITS``, and have
    no ``..``: a bad line raises ValueError naming the manifest and the line.
    """
    source = manifest_path() if path is None else path if hasattr(path, "read_text") else Path(path)
    text = source.read_text(encoding="utf-8")
    known = {f for folders in VCIP_SPLITS.values() for f in folders}
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r").split("\t")
        where = f"manifest {source}, line {number} ({line[:80]!r})"
        if len(fields) != 3:
            raise ValueError(f"{where}: expected 3 tab-separated columns path, bytes, sha256; got {len(fields)}")
        rel, size, digest = fields
        parts = rel.split("/")
        if (len(parts) < 3 or parts[0] != "datasets" or parts[1] not in known or "" in parts
                or any(p in (".", "..") for p in parts) or "\\" in rel):
            raise ValueError(f"{where}: path {rel!r} must be datasets/<{'|'.join(sorted(known))}>/... "
                             "without '..' or empty parts")
        if not size.isdigit():
            raise ValueError(f"{where}: size {size!r} is not a whole number of bytes")
        digest = digest.strip().lower()
        if not _HEX64.match(digest):
            raise ValueError(f"{where}: {digest!r} is not a SHA-256 (64 hex digits)")
        if rel in seen:
            raise ValueError(f"{where}: {rel} is listed twice")
        seen.add(rel)
        entries.append(ManifestEntry(rel, int(size), digest))
    if not entries:
        raise ValueError(f"manifest {source} lists no files; expected lines path<TAB>bytes<TAB>sha256")
    return entries


# --------------------------------------------------------------------------------------------------------------
# HTTP with retries and Range resume
# --------------------------------------------------------------------------------------------------------------
class _Truncated(ConnectionError):
    """The server closed the connection before the whole file came."""


class _Unreachable(Exception):
    """Retries exhausted (or a non-retryable HTTP status): the source cannot be used from here."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"could not fetch {url} ({reason})")
        self.url = url
        self.reason = reason


class _Cancelled(Exception):
    pass


_TRANSIENT = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class _Progress:
    """A thread-safe byte counter around one tqdm bar (or nothing)."""

    def __init__(self, total: int | None, desc: str, enabled: bool):
        self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not enabled)
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        if n:
            with self.lock:
                self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total length) of a ``Content-Range: bytes a-b/total`` header (None where absent/unknown)."""
    m = re.match(r"^\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", value or "")
    if not m:
        return None, None
    return int(m.group(1)), (None if m.group(2) == "*" else int(m.group(2)))


def _fetch_once(url: str, part: Path, size: int | None, timeout: float, progress: _Progress,
                stop: threading.Event | None, label: str) -> None:
    """Bring ``part`` to the whole content of ``url``: ask for the missing bytes with ``Range`` when ``part``
    already holds some (append on 206, start over on 200). Raises _Truncated when the connection ends early,
    ValueError when the server announces or sends a size other than ``size``."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:  # longer than the file can be: not a prefix of it
        part.unlink()
        progress.add(-have)
        have = 0
    if size is not None and have == size:
        return
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
        status = getattr(response, "status", None) or 200  # file:// responses have no status
        if have and status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != have:
                part.unlink()
                progress.add(-have)
                raise _Truncated(f"asked for bytes {have}- of {url}, the server sent Content-Range "
                                 f"{response.headers.get('Content-Range')!r}; starting over")
            mode = "ab"
        else:
            if have:  # the server ignored the Range header: the whole file comes again
                progress.add(-have)
                have = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
        if size is not None and total is not None and total != size:
            raise ValueError(f"{label}: {url} is {total:,} bytes according to the server; expected {size:,} "
                             "bytes. Not downloaded: the source holds a different file")
        expected = size if size is not None else total
        with open(part, mode) as out:
            while True:
                if stop is not None and stop.is_set():
                    raise _Cancelled()
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                have += len(block)
                progress.add(len(block))
                if expected is not None and have > expected:
                    raise ValueError(f"{label}: {url} sent more than the expected {expected:,} bytes. Not "
                                     "downloaded: the source holds a different file")
    if expected is not None and have < expected:
        raise _Truncated(f"connection closed after {have:,} of {expected:,} bytes")


def _fetch(url: str, part: Path, size: int | None, *, retries: int, timeout: float, progress: _Progress,
           label: str, stop: threading.Event | None = None) -> None:
    """:func:`_fetch_once` with up to ``retries`` further tries after transient errors, each resuming where the
    data stopped. Raises _Unreachable when every try failed or the server refuses the file (HTTP 4xx)."""
    attempt = 0
    while True:
        try:
            _fetch_once(url, part, size, timeout, progress, stop, label)
            return
        except urllib.error.HTTPError as err:
            if err.code == 416 and part.exists():  # our Range is past the end: what we have is no prefix
                progress.add(-part.stat().st_size)
                part.unlink()
            elif err.code not in _RETRY_STATUS:
                raise _Unreachable(url, f"HTTP {err.code} {err.reason}") from err
            last: Exception = err
        except _TRANSIENT as err:
            last = err
        attempt += 1
        if attempt > retries:
            reason = getattr(last, "reason", None) or last
            raise _Unreachable(url, f"{type(last).__name__}: {reason}; gave up after {attempt} "
                                     f"attempt{'s' if attempt > 1 else ''}") from last
        time.sleep(RETRY_WAIT_S * 2 ** (attempt - 1))


# --------------------------------------------------------------------------------------------------------------
# VCIP 2020: file by file against the shipped manifest
# --------------------------------------------------------------------------------------------------------------
def _vcip_help(root: Path) -> str:
    return (f"To get it by hand: download the folder datasets/ of {VCIP_BROWSE_URL} in a browser (or git clone "
            f"https://github.com/{VCIP_REPO} and check out {VCIP_COMMIT}) and put NIR/*.png, RGB-Registered/*.png, "
            f"Validation/ and Testing/ (with Testing/visual/) under {root}, e.g. {root / 'NIR' / 'country_0000_nir.png'}"
            f" and {root / 'RGB-Registered' / 'country_0000_rgb_reg.png'}; then open it with "
            f"VCIP2020({str(root)!r}, split='train').")


def _is_verified(path: Path, size: int, digest: str) -> bool:
    return path.is_file() and path.stat().st_size == size and sha256_of(path) == digest


def _parse_splits(splits: str | Iterable[str] | None) -> tuple[str, ...]:
    if splits is None:
        return tuple(VCIP_SPLITS)
    items = [s.strip() for s in (splits.split(",") if isinstance(splits, str) else splits)]
    items = ["val" if s == "validation" else s for s in items if s]
    unknown = [s for s in items if s not in VCIP_SPLITS]
    if unknown or not items:
        raise ValueError(f"splits: expected a non-empty subset of {', '.join(VCIP_SPLITS)}; got {splits!r}")
    return tuple(s for s in VCIP_SPLITS if s in items)


def download_vcip2020(root: str | Path, splits: str | Iterable[str] | None = None, *,
                      base_url: str = VCIP_BASE_URL, manifest: str | Path | None = None, workers: int = 8,
                      retries: int = 4, timeout: float = 60.0, progress: bool = True) -> Path:
    """Fetch the VCIP 2020 files of ``splits`` (subset of "train", "val", "test"; default all) into ``root``.

    Each manifest entry ``datasets/<rel>`` is fetched from ``base_url + <rel>`` (path segments URL-quoted) into
    a temporary file in ``root/<rel>``'s folder and renamed to ``root/<rel>`` only when its size and SHA-256
    match the manifest (default: the shipped one, :func:`manifest_path`). Files already there and matching are
    not fetched again. ``workers`` threads fetch in parallel; transient errors are retried ``retries`` times.
    Returns ``root``.

    Raises ValueError when a file does not match (naming the file, the URL, expected and actual size and
    SHA-256; the download is discarded and any previous file at that place is kept) and DatasetUnavailable when
    ``base_url`` cannot be reached (with the folder layout to create by hand).
    """
    root = Path(root)
    wanted = _parse_splits(splits)
    if workers < 1:
        raise ValueError(f"workers: expected at least 1 thread, got {workers}")
    manifest_name = str(manifest) if manifest is not None else "course_lib/data/manifests/vcip2020.tsv"
    entries = [e for e in read_manifest(manifest) if e.split in wanted]
    if not base_url.endswith("/"):
        base_url += "/"
    root.mkdir(parents=True, exist_ok=True)

    todo = [e for e in entries if not _is_verified(root / e.relpath, e.size, e.sha256)]
    present = len(entries) - len(todo)
    bar = _Progress(sum(e.size for e in todo), f"VCIP2020 {'+'.join(wanted)}", progress and bool(todo))
    stop = threading.Event()

    def fetch(entry: ManifestEntry) -> None:
        if stop.is_set():
            return
        target = root / entry.relpath
        url = base_url + urllib.parse.quote(entry.relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        part = Path(name)
        try:
            try:
                _fetch(url, part, entry.size, retries=retries, timeout=timeout, progress=bar, label=str(target),
                       stop=stop)
            except _Unreachable as err:
                raise DatasetUnavailable(f"VCIP2020: {err} for {target}. {_vcip_help(root)}") from err
            actual_size = part.stat().st_size
            actual = sha256_of(part)
            if actual_size != entry.size or actual != entry.sha256:
                kept = " The file already there was kept unchanged." if target.exists() else ""
                raise ValueError(f"VCIP2020: {target} downloaded from {url} does not match the manifest "
                                 f"{manifest_name}: got {actual_size:,} bytes with SHA-256 {actual}; expected "
                                 f"{entry.size:,} bytes with SHA-256 {entry.sha256}. The download was "
                                 f"discarded.{kept}")
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)

    try:
        if todo:
            with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
                futures = [pool.submit(fetch, e) for e in todo]
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [f for f in futures if f.done() and not f.cancelled() and f.exception() is not None]
                if failed:
                    stop.set()
                    for f in futures:
                        f.cancel()
                    wait(futures)
                    errors = [f.exception() for f in failed]
                    raise next((e for e in errors if not isinstance(e, _Cancelled)), errors[0])
    finally:
        bar.close()
    print(f"VCIP2020 ({', '.join(wanted)}): {len(entries)} files verified in {root} ({len(todo)} downloaded, "
          f"{present} already there)")
    return root


# --------------------------------------------------------------------------------------------------------------
# EPFL RGB-NIR Scene: one zip, resumable
# --------------------------------------------------------------------------------------------------------------
_MARKER = ".course_lib-download"  # in root/nirscene1/: "sha256 size url" of the archive it was unpacked from


def _epfl_help(root: Path, url: str, size: int | None) -> str:
    size_text = f" ({size:,} bytes)" if size is not None else ""
    return (f"To get it by hand: download {url}{size_text} in a browser (dataset page: {EPFL_PAGE}) and unzip "
            f"nirscene1.zip into {root} so that {root / 'nirscene1'}/<category>/NNNN_nir.tiff + NNNN_rgb.tiff "
            f"(categories {', '.join(EPFL_CATEGORIES)}); or put the zip at "
            f"{root / '.downloads' / 'nirscene1.zip'} and run download('epfl', {str(root)!r}) again to check "
            f"and unpack it. Then open it with EPFLNirScene({str(root)!r}).")


def _normalise_sha256(sha256: str | None, arg: str = "sha256") -> str | None:
    if sha256 is None:
        return None
    digest = sha256.strip().lower()
    if not _HEX64.match(digest):
        raise ValueError(f"{arg}: expected a SHA-256 of 64 hex digits, got {sha256!r}")
    return digest


def _unpack_epfl(archive: Path, root: Path, digest: str, size: int, url: str) -> Path:
    """Unpack ``archive`` into a temporary folder in ``root``; move its nirscene1/ to ``root/nirscene1``
    (replacing an older copy only once the new one is complete)."""
    target = root / "nirscene1"
    tmp = Path(tempfile.mkdtemp(prefix=".nirscene1-unpack-", dir=root))
    try:
        safe_extract(archive, tmp)
        if (tmp / "nirscene1").is_dir():
            inner = tmp / "nirscene1"
        elif any((tmp / c).is_dir() for c in EPFL_CATEGORIES):
            inner = tmp
        else:
            found = sorted(p.name for p in tmp.iterdir())
            raise ValueError(f"{archive} (from {url}) holds neither nirscene1/ nor the category folders "
                             f"{', '.join(EPFL_CATEGORIES)} (found: {found or 'nothing'}); expected the EPFL "
                             "RGB-NIR Scene archive")
        (inner / _MARKER).write_text(f"{digest} {size} {url}\n", encoding="utf-8")
        old = None
        if target.exists():
            old = root / f".nirscene1-old-{os.getpid()}-{time.time_ns()}"
            os.replace(target, old)
        os.replace(inner, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def download_epfl(root: str | Path, *, url: str = EPFL_URL, size: int | None = EPFL_SIZE,
                  sha256: str | None = None, retries: int = 8, timeout: float = 60.0, keep_archive: bool = True,
                  progress: bool = True) -> Path:
    """Fetch ``nirscene1.zip`` into ``root/.downloads/``, verify it, unpack it to ``root/nirscene1/``.

    The download goes to ``root/.downloads/nirscene1.zip.part``; a later call (or a retry after a dropped
    connection) asks only for the missing bytes with an HTTP ``Range`` header. The finished file must have
    ``size`` bytes (None: whatever the server announces); its SHA-256 is printed and, when ``sha256`` is given,
    must match. Only then is it renamed to ``nirscene1.zip`` and unpacked with :func:`safe_extract` into a
    temporary folder inside ``root``, whose ``nirscene1/`` then replaces ``root/nirscene1``. A zip already there
    with the right size (and hash, when pinned) is not fetched again; a ``root/nirscene1`` unpacked by an
    earlier call from such a zip, or a ``root/nirscene1`` with category folders put there by hand (when no
    ``sha256`` is pinned), is left as it is. Returns ``root`` (open it with ``EPFLNirScene(root)``).

    Raises DatasetUnavailable when ``url`` cannot be reached (saying where to put the files by hand),
    ValueError for a wrong size or SHA-256 (naming file, URL, expected and actual values; a wrong complete
    download is deleted, the earlier archive and folder are kept) or an unsafe archive member.
    """
    root = Path(root)
    sha256 = _normalise_sha256(sha256)
    downloads = root / ".downloads"
    archive = downloads / "nirscene1.zip"
    part = downloads / "nirscene1.zip.part"
    marker = root / "nirscene1" / _MARKER

    if marker.is_file():
        recorded = marker.read_text(encoding="utf-8").split()
        if recorded and (sha256 is None or recorded[0] == sha256):
            print(f"EPFL RGB-NIR Scene: {root / 'nirscene1'} is already unpacked from a verified archive "
                  f"(SHA-256 {recorded[0]}); nothing to do")
            return root

    unpacked = root / "nirscene1"
    if (sha256 is None and not marker.is_file() and not archive.exists() and not part.exists()
            and unpacked.is_dir() and any((unpacked / c).is_dir() for c in EPFL_CATEGORIES)):
        # unpacked by hand (the DatasetUnavailable advice): use it rather than fetch 952 MB again over it
        print(f"EPFL RGB-NIR Scene: using {unpacked}, which is already there (not made by download(), so not "
              "verified; move it away, or pass sha256=, to download and check the archive)")
        return root

    digest = None
    if archive.is_file() and (size is None or archive.stat().st_size == size):
        digest = sha256_of(archive)
        if sha256 is not None and digest != sha256:
            print(f"{archive} has SHA-256 {digest}, not the pinned {sha256}: fetching {url} again (the file stays "
                  "until a verified download replaces it)")
            digest = None
        else:
            print(f"using {archive} already there ({archive.stat().st_size:,} bytes, SHA-256 {digest})")
    if digest is None:
        downloads.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        if have:
            print(f"resuming {part} from byte {have:,}")
        bar = _Progress(size, "nirscene1.zip", progress)
        bar.add(have)
        try:
            _fetch(url, part, size, retries=retries, timeout=timeout, progress=bar, label=str(archive))
        except _Unreachable as err:
            raise DatasetUnavailable(f"EPFL RGB-NIR Scene: {err}; the bytes received so far are kept in {part} "
                                     f"and a new call resumes from there. {_epfl_help(root, url, size)}") from err
        finally:
            bar.close()
        actual_size = part.stat().st_size
        if size is not None and actual_size != size:  # _fetch guarantees it; kept as a last line of defence
            raise ValueError(f"{part} from {url} has {actual_size:,} bytes; expected {size:,}")
        digest = sha256_of(part)
        print(f"nirscene1.zip from {url}: {actual_size:,} bytes, SHA-256 {digest}")
        if sha256 is not None and digest != sha256:
            part.unlink()
            raise ValueError(f"EPFL RGB-NIR Scene: {archive.name} downloaded from {url} has SHA-256 {digest} "
                             f"({actual_size:,} bytes); expected the pinned SHA-256 {sha256}. The download was "
                             "deleted; the source holds a different file than the one pinned")
        if sha256 is None:
            print(f"(SHA-256 not pinned: pass sha256={digest!r} / --sha256 {digest} to require exactly this "
                  "file next time)")
        os.replace(part, archive)
    target = _unpack_epfl(archive, root, digest, archive.stat().st_size, url)
    if not keep_archive:
        archive.unlink()
    print(f"EPFL RGB-NIR Scene unpacked to {target}")
    return root


# --------------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------------
_OPTIONS = {"vcip2020": {"splits", "base_url", "manifest", "workers", "retries", "timeout", "progress"},
            "epfl": {"size", "retries", "timeout", "keep_archive", "progress"}}


def download(name: str, root: str | Path, url: str | None = None, sha256: str | None = None, **options) -> Path:
    """Fetch dataset ``name`` ("vcip2020" or "epfl") into ``root``, verified; returns ``root``.

    ``url`` overrides the source: for "vcip2020" the base URL of the mirror's ``datasets/`` folder (same as
    ``base_url=``), for "epfl" the zip's URL. ``sha256`` pins the EPFL archive (VCIP files are checked against
    their manifest instead). Other ``options`` go to :func:`download_vcip2020` (``splits``, ``base_url``,
    ``manifest``, ``workers``, ``retries``, ``timeout``, ``progress``) or :func:`download_epfl` (``size``,
    ``retries``, ``timeout``, ``keep_archive``, ``progress``).

    ValueError for an unknown name or an option the dataset does not take; see the two functions for the rest.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset name {name!r}; expected one of {', '.join(DATASETS)}")
    unknown = sorted(set(options) - _OPTIONS[name])
    if unknown:
        raise ValueError(f"download({name!r}): unexpected option(s) {', '.join(unknown)}; expected some of "
                         f"{', '.join(sorted(_OPTIONS[name]))}")
    if name == "vcip2020":
        if sha256 is not None:
            raise ValueError("sha256: vcip2020 is checked file by file against its manifest (manifest=...); "
                             "sha256= pins the epfl archive")
        if url is not None:
            if options.get("base_url") not in (None, url):
                raise ValueError(f"url={url!r} and base_url={options['base_url']!r}: give one of them")
            options["base_url"] = url
        options = {k: v for k, v in options.items() if not (k == "base_url" and v is None)}
        return download_vcip2020(root, **options)
    if url is not None:
        options["url"] = url
    return download_epfl(root, sha256=sha256, **options)


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
