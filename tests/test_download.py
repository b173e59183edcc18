"""Tests of course_lib.data.download end to end against a loopback HTTP server the tests start.

The server (``served`` fixture) listens on 127.0.0.1 (port 0), serves an in-memory dict path -> bytes, honours
``Range: bytes=N-`` (206) unless told not to, can drop the connection after N bytes, and records every request.
No test touches the real network.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.resources
import io
import re
import socket
import threading
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_lib import cli
from course_lib.data import (
    DATASETS,
    DatasetUnavailable,
    EPFLNirScene,
    download,
    download_epfl,
    download_vcip2020,
    manifest_path,
    read_manifest,
)

# course_lib.data.download is the function re-exported by the package; import_module gives the module
download_module = importlib.import_module("course_lib.data.download")


# --------------------------------------------------------------------------------------------------------------
# the loopback server
# --------------------------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        srv = self.server
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        range_header = self.headers.get("Range")
        with srv.lock:
            srv.requests.append((path, range_header))
            data = srv.files.get(path)
            drop = None
            if path in srv.drops and srv.drops[path][1] > 0:
                after, times = srv.drops[path]
                srv.drops[path] = (after, times - 1)
                drop = after
        if data is None:
            self.send_error(404, "not here")
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if m and not srv.ignore_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if drop is not None:  # announce the whole body, send part of it, hang up
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.drops: dict[str, tuple[int, int]] = {}  # path -> (bytes sent before hanging up, how many times)
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def requested(self, path: str) -> list[str | None]:
        """The Range headers (None: no Range) of the requests for ``path``."""
        with self.lock:
            return [r for p, r in self.requests if p == path]


@pytest.fixture
def served():
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(download_module, "RETRY_WAIT_S", 0.0)


@pytest.fixture
def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connection refused


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(seed: int, mode: str = "L", size: int = 8) -> bytes:
    rng = np.random.default_rng(seed)
    shape = (size, size) if mode == "L" else (size, size, 3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buf, format="PNG")
    return buf.getvalue()


def _no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.endswith(".part") or p.name.startswith(".nirscene1-")]


# --------------------------------------------------------------------------------------------------------------
# the shipped manifest
# --------------------------------------------------------------------------------------------------------------
def test_shipped_manifest_is_package_data_with_all_vcip_files():
    resource = importlib.resources.files("course_lib.data") / "manifests" / "vcip2020.tsv"
    assert resource.is_file()
    assert Path(str(manifest_path())) == Path(str(resource))
    header = resource.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("#") and "be885bd2e1b928be2115bd74217143657e0558f5" in header
    entries = read_manifest()
    assert len(entries) == 845
    assert sum(e.path.startswith("datasets/NIR/") for e in entries) == 372
    assert sum(e.path.startswith("datasets/RGB-Registered/") for e in entries) == 372
    assert {e.split for e in entries} == {"train", "val", "test"}
    assert any(e.relpath.startswith("Testing/visual/") for e in entries)
    assert all(e.size > 0 and len(e.sha256) == 64 for e in entries)
    nir0 = next(e for e in entries if e.relpath == "NIR/country_0000_nir.png")
    assert (nir0.size, nir0.sha256[:12]) == (37232, "facd2226311b")
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"].get("course_lib.data", [])
    assert "manifests/*.tsv" in package_data, "the manifest must be package data, or a pip install from git lacks it"


def test_read_manifest_refuses_paths_outside_datasets(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text(f"# x\ndatasets/NIR/../../evil.png\t3\t{'0' * 64}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv, line 2.*without '\.\.'"):
        read_manifest(bad)
    bad.write_text(f"datasets/NIR/a.png\tthree\t{'0' * 64}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="size 'three'"):
        read_manifest(bad)


# --------------------------------------------------------------------------------------------------------------
# VCIP 2020, file by file
# --------------------------------------------------------------------------------------------------------------
VCIP_FILES = {
    "NIR/country_0000_nir.png": _png(1),
    "NIR/country_0001_nir.png": _png(2),
    "RGB-Registered/country_0000_rgb_reg.png": _png(3, "RGB"),
    "RGB-Registered/country_0001_rgb_reg.png": _png(4, "RGB"),
    "Validation/validation_0000_nir.png": _png(5),
    "Validation/validation_0000_rgb_reg.png": _png(6, "RGB"),
    "Testing/testing_0001_nir_reg.png": _png(7),
    "Testing/Testing_0001_rgb_reg.png": _png(8, "RGB"),
    "Testing/visual/vis_testing_0001_nir.png": _png(9),
}
PREFIX = "/MCFNet/abc123/datasets/"


@pytest.fixture
def vcip(served, tmp_path):
    """The tiny mirror: the files served under PREFIX, and a manifest of them."""
    for rel, data in VCIP_FILES.items():
        served.files[PREFIX + rel] = data
    manifest = tmp_path / "tiny.tsv"
    manifest.write_text("# tiny test manifest\n# path\tbytes\tsha256\n" + "".join(
        f"datasets/{rel}\t{len(data)}\t{_sha(data)}\n" for rel, data in VCIP_FILES.items()), encoding="utf-8")
    return {"server": served, "base_url": served.url + PREFIX, "manifest": manifest, "root": tmp_path / "vcip"}


def _get_vcip(vcip, **options):
    options = {"base_url": vcip["base_url"], "manifest": vcip["manifest"], "progress": False, **options}
    return download_vcip2020(vcip["root"], **options)


def test_vcip_downloads_every_file_verified_into_the_layout(vcip):
    root = vcip["root"]
    assert download("vcip2020", root, url=vcip["base_url"], manifest=vcip["manifest"], progress=False) == root
    for rel, data in VCIP_FILES.items():
        assert (root / rel).read_bytes() == data
    assert (root / "NIR" / "country_0000_nir.png").is_file()  # datasets/ dropped from the paths
    assert Image.open(root / "Testing" / "visual" / "vis_testing_0001_nir.png").size == (8, 8)
    server = vcip["server"]
    assert sorted(p for p, _ in server.requests) == sorted(PREFIX + rel for rel in VCIP_FILES)
    assert _no_temp_files(root)


def test_vcip_again_fetches_only_missing_or_wrong_files(vcip):
    root, server = vcip["root"], vcip["server"]
    _get_vcip(vcip)
    first = len(server.requests)
    _get_vcip(vcip)
    assert len(server.requests) == first  # everything verified on disk: no request at all
    (root / "NIR" / "country_0001_nir.png").unlink()  # an interrupted earlier run
    damaged = root / "Validation" / "validation_0000_rgb_reg.png"
    damaged.write_bytes(damaged.read_bytes()[:-5])
    _get_vcip(vcip)
    again = sorted(p for p, _ in server.requests[first:])
    assert again == sorted([PREFIX + "NIR/country_0001_nir.png", PREFIX + "Validation/validation_0000_rgb_reg.png"])
    assert damaged.read_bytes() == VCIP_FILES["Validation/validation_0000_rgb_reg.png"]


@pytest.mark.parametrize("splits, folders", [("val,test", {"Validation", "Testing"}), (["train"], {"NIR",
                                              "RGB-Registered"}), (("test",), {"Testing"})])
def test_vcip_splits_fetch_only_their_folders(vcip, splits, folders):
    _get_vcip(vcip, splits=splits)
    fetched = {p[len(PREFIX):] for p, _ in vcip["server"].requests}
    assert fetched == {rel for rel in VCIP_FILES if rel.split("/")[0] in folders}
    on_disk = {p.relative_to(vcip["root"]).as_posix() for p in vcip["root"].rglob("*") if p.is_file()}
    assert on_disk == fetched


def test_vcip_bad_splits_and_options_are_errors(vcip):
    with pytest.raises(ValueError, match="subset of train, val, test; got 'train,holdout'"):
        _get_vcip(vcip, splits="train,holdout")
    with pytest.raises(ValueError, match="sha256.*manifest"):
        download("vcip2020", vcip["root"], sha256="0" * 64)
    with pytest.raises(ValueError, match="unexpected option.*keep_archive"):
        download("vcip2020", vcip["root"], keep_archive=False)
    with pytest.raises(ValueError, match="unknown dataset name 'nope'"):
        download("nope", vcip["root"])
    assert vcip["server"].requests == []


def test_vcip_tampered_file_is_an_error_and_the_previous_copy_stays(vcip):
    root, server = vcip["root"], vcip["server"]
    rel = "RGB-Registered/country_0000_rgb_reg.png"
    good = VCIP_FILES[rel]
    tampered = bytes([good[0] ^ 0xFF]) + good[1:]  # same size, other bytes
    server.files[PREFIX + rel] = tampered
    previous = root / rel
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"an older copy")  # not what the manifest says, so it is fetched again
    with pytest.raises(ValueError) as info:
        _get_vcip(vcip, workers=1)
    message = str(info.value)
    for part in (str(previous), vcip["base_url"] + rel, _sha(good), _sha(tampered), f"{len(good):,} bytes",
                 "kept unchanged"):
        assert part in message
    assert previous.read_bytes() == b"an older copy"
    assert _no_temp_files(root)


def test_vcip_wrong_size_is_an_error_naming_both_sizes(vcip):
    rel = "Testing/testing_0001_nir_reg.png"
    good = VCIP_FILES[rel]
    vcip["server"].files[PREFIX + rel] = good + b"extra"
    with pytest.raises(ValueError, match=rf"testing_0001_nir_reg\.png.*{len(good) + 5:,} bytes.*expected "
                                         rf"{len(good):,} bytes"):
        _get_vcip(vcip, splits="test")
    assert not (vcip["root"] / rel).exists() and _no_temp_files(vcip["root"])


def test_vcip_dropped_connection_resumes_with_range(vcip):
    server, rel = vcip["server"], "RGB-Registered/country_0001_rgb_reg.png"
    server.drops[PREFIX + rel] = (100, 1)  # the first answer stops after 100 bytes
    _get_vcip(vcip, splits="train", retries=2)
    assert server.requested(PREFIX + rel) == [None, "bytes=100-"]
    assert (vcip["root"] / rel).read_bytes() == VCIP_FILES[rel]
    assert _no_temp_files(vcip["root"])


def test_vcip_dropped_connection_without_retries_is_an_error_and_writes_nothing(vcip):
    server, rel = vcip["server"], "NIR/country_0000_nir.png"
    server.drops[PREFIX + rel] = (50, 5)
    with pytest.raises(DatasetUnavailable, match=r"connection closed after 50 of"):
        _get_vcip(vcip, splits="train", retries=0, workers=1)
    assert not (vcip["root"] / rel).exists() and _no_temp_files(vcip["root"])


def test_vcip_offline_says_where_to_put_the_files(tmp_path, closed_port_url):
    root = tmp_path / "vcip"
    with pytest.raises(DatasetUnavailable) as info:
        download_vcip2020(root, base_url=closed_port_url + "/datasets/", retries=1, progress=False)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    for part in (closed_port_url, "put NIR/*.png, RGB-Registered/*.png, Validation/ and Testing/", f"under {root}",
                 "https://github.com/AlexYangxx/MCFNet/tree/be885bd2e1b928be2115bd74217143657e0558f5/datasets",
                 "VCIP2020("):
        assert part in message


def test_vcip_registry_points_at_the_pinned_mirror():
    assert DATASETS["vcip2020"]["url"] == ("https://raw.githubusercontent.com/AlexYangxx/MCFNet/"
                                           "be885bd2e1b928be2115bd74217143657e0558f5/datasets/")
    assert download_vcip2020.__kwdefaults__["base_url"] == DATASETS["vcip2020"]["url"]


# --------------------------------------------------------------------------------------------------------------
# EPFL RGB-NIR Scene, one resumable zip
# --------------------------------------------------------------------------------------------------------------
def _tiff(seed: int, mode: str) -> bytes:
    rng = np.random.default_rng(seed)
    shape = (6, 9) if mode == "L" else (6, 9, 3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buf, format="TIFF")
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


EPFL_MEMBERS = {f"nirscene1/{cat}/000{i}_{band}.tiff": _tiff(10 * k + i + (band == "rgb"),
                                                              "L" if band == "nir" else "RGB")
                for k, cat in enumerate(("field", "water")) for i in range(2) for band in ("nir", "rgb")}
EPFL_ZIP = _zip(EPFL_MEMBERS)
ZIP_PATH = "/supplementary_material/cvpr11/nirscene1.zip"


@pytest.fixture
def epfl(served, tmp_path):
    served.files[ZIP_PATH] = EPFL_ZIP
    return {"server": served, "url": served.url + ZIP_PATH, "root": tmp_path / "epfl"}


def _get_epfl(epfl, **options):
    options = {"url": epfl["url"], "size": len(EPFL_ZIP), "progress": False, **options}
    return download_epfl(epfl["root"], **options)


def test_epfl_downloads_checks_size_prints_sha256_and_unpacks(epfl, capsys):
    root = epfl["root"]
    assert download("epfl", root, url=epfl["url"], size=len(EPFL_ZIP), progress=False) == root
    out = capsys.readouterr().out
    assert f"{len(EPFL_ZIP):,} bytes, SHA-256 {_sha(EPFL_ZIP)}" in out and "--sha256" in out
    assert (root / ".downloads" / "nirscene1.zip").read_bytes() == EPFL_ZIP
    for name, data in EPFL_MEMBERS.items():
        assert (root / name).read_bytes() == data
    assert _no_temp_files(root)
    ds = EPFLNirScene(root)
    assert len(ds) == 4 and ds[0]["nir"].shape == (1, 6, 9)
    requests = len(epfl["server"].requests)
    _get_epfl(epfl)  # unpacked from a verified archive already: nothing fetched, nothing unpacked again
    assert len(epfl["server"].requests) == requests == 1
    assert "already unpacked" in capsys.readouterr().out


def test_epfl_restart_asks_for_the_rest_with_range(epfl):
    part = epfl["root"] / ".downloads" / "nirscene1.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(EPFL_ZIP[:1000])  # what an interrupted earlier run left
    _get_epfl(epfl, sha256=_sha(EPFL_ZIP))
    assert epfl["server"].requested(ZIP_PATH) == ["bytes=1000-"]
    assert (epfl["root"] / ".downloads" / "nirscene1.zip").read_bytes() == EPFL_ZIP
    assert not part.exists()


def test_epfl_dropped_connection_is_resumed_or_kept_for_later(epfl):
    server = epfl["server"]
    server.drops[ZIP_PATH] = (700, 1)
    with pytest.raises(DatasetUnavailable, match="connection closed after 700 of.*resumes from there"):
        _get_epfl(epfl, retries=0)
    part = epfl["root"] / ".downloads" / "nirscene1.zip.part"
    assert part.read_bytes() == EPFL_ZIP[:700] and not (epfl["root"] / "nirscene1").exists()
    server.drops[ZIP_PATH] = (300, 1)  # the next call is cut too, and its retry finishes the file
    _get_epfl(epfl, retries=1)
    assert server.requested(ZIP_PATH) == [None, "bytes=700-", "bytes=1000-"]
    assert (epfl["root"] / ".downloads" / "nirscene1.zip").read_bytes() == EPFL_ZIP


def test_epfl_server_ignoring_range_starts_over(epfl):
    part = epfl["root"] / ".downloads" / "nirscene1.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 500)  # junk: if it were kept, the hash and the zip would be wrong
    epfl["server"].ignore_range = True
    _get_epfl(epfl, sha256=_sha(EPFL_ZIP))
    assert epfl["server"].requested(ZIP_PATH) == ["bytes=500-"]
    assert (epfl["root"] / ".downloads" / "nirscene1.zip").read_bytes() == EPFL_ZIP


def test_epfl_wrong_size_is_refused(epfl):
    with pytest.raises(ValueError, match=rf"nirscene1\.zip is {len(EPFL_ZIP):,} bytes according to the server; "
                                         rf"expected {len(EPFL_ZIP) + 1:,}"):
        _get_epfl(epfl, size=len(EPFL_ZIP) + 1)
    assert not (epfl["root"] / ".downloads" / "nirscene1.zip").exists()
    assert not (epfl["root"] / "nirscene1").exists()


def test_epfl_sha256_pin_mismatch_keeps_the_previous_good_copy(epfl):
    root, server = epfl["root"], epfl["server"]
    _get_epfl(epfl, sha256=_sha(EPFL_ZIP))
    archive = root / ".downloads" / "nirscene1.zip"
    unpacked = {p: p.read_bytes() for p in (root / "nirscene1").rglob("*") if p.is_file()}
    newer = _zip({"nirscene1/field/0000_nir.tiff": b"a newer release"})
    tampered = bytes(len(newer))  # what the server now sends instead of it
    server.files[ZIP_PATH] = tampered
    with pytest.raises(ValueError) as info:
        _get_epfl(epfl, size=len(tampered), sha256=_sha(newer).upper())
    message = str(info.value)
    for part in ("nirscene1.zip", epfl["url"], f"SHA-256 {_sha(tampered)}", f"pinned SHA-256 {_sha(newer)}"):
        assert part in message
    assert archive.read_bytes() == EPFL_ZIP
    assert {p: p.read_bytes() for p in (root / "nirscene1").rglob("*") if p.is_file()} == unpacked
    assert _no_temp_files(root)
    with pytest.raises(ValueError, match="64 hex digits, got 'abc'"):
        _get_epfl(epfl, sha256="abc")


def test_epfl_newer_archive_replaces_the_folder_only_when_complete(epfl):
    root, server = epfl["root"], epfl["server"]
    _get_epfl(epfl)
    newer = _zip({"nirscene1/water/0009_nir.tiff": b"n", "nirscene1/water/0009_rgb.tiff": b"r"})
    server.files[ZIP_PATH] = newer
    _get_epfl(epfl, size=len(newer), sha256=_sha(newer))
    files = sorted(p.relative_to(root / "nirscene1").as_posix() for p in (root / "nirscene1").rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    assert files == ["water/0009_nir.tiff", "water/0009_rgb.tiff"]
    assert _no_temp_files(root)


def test_epfl_zip_with_dotdot_member_is_refused_and_writes_nothing_outside(epfl):
    root, server = epfl["root"], epfl["server"]
    evil = _zip({"nirscene1/field/0000_nir.tiff": b"n", "../escape.txt": b"x", "nirscene1/../../escape2.txt": b"y"})
    server.files[ZIP_PATH] = evil
    with pytest.raises(ValueError, match=r"refusing to extract member '\.\./escape\.txt'"):
        _get_epfl(epfl, size=len(evil))
    base = root.parent
    assert not (base / "escape.txt").exists() and not (base / "escape2.txt").exists()
    assert not (root / "escape.txt").exists() and not (root / "nirscene1").exists()
    assert _no_temp_files(root)


def test_epfl_copy_unpacked_by_hand_is_used_not_overwritten(epfl, capsys):
    by_hand = epfl["root"] / "nirscene1" / "field" / "0000_nir.tiff"
    by_hand.parent.mkdir(parents=True)
    by_hand.write_bytes(b"mine")
    _get_epfl(epfl)
    assert "already there (not made by download()" in capsys.readouterr().out
    assert by_hand.read_bytes() == b"mine" and epfl["server"].requests == []
    _get_epfl(epfl, sha256=_sha(EPFL_ZIP))  # pinned: fetched, checked, and it replaces the unverified copy
    assert by_hand.read_bytes() == EPFL_MEMBERS["nirscene1/field/0000_nir.tiff"]


def test_vcip_file_missing_on_the_mirror_is_unavailable(vcip):
    del vcip["server"].files[PREFIX + "Validation/validation_0000_nir.png"]
    with pytest.raises(DatasetUnavailable, match=r"HTTP 404.*validation_0000_nir\.png.*put NIR/\*\.png"):
        _get_vcip(vcip, splits="val", workers=1)
    assert vcip["server"].requested(PREFIX + "Validation/validation_0000_nir.png") == [None]  # 404: no retry


def test_epfl_file_url_works(tmp_path):
    archive = tmp_path / "mirror" / "nirscene1.zip"
    archive.parent.mkdir()
    archive.write_bytes(EPFL_ZIP)
    download("epfl", tmp_path / "data", url=archive.as_uri(), sha256=_sha(EPFL_ZIP), size=len(EPFL_ZIP),
             progress=False)
    assert len(EPFLNirScene(tmp_path / "data")) == 4


def test_epfl_offline_says_where_to_put_the_files(tmp_path, closed_port_url):
    root = tmp_path / "epfl"
    url = closed_port_url + ZIP_PATH
    with pytest.raises(DatasetUnavailable) as info:
        download("epfl", root, url=url, retries=1, progress=False)
    message = str(info.value)
    for part in (f"download {url} (952,431,486 bytes) in a browser", f"unzip nirscene1.zip into {root}",
                 f"{root / 'nirscene1'}/<category>/NNNN_nir.tiff + NNNN_rgb.tiff", "country, field",
                 str(root / ".downloads" / "nirscene1.zip"), "EPFLNirScene("):
        assert part in message


def test_epfl_registry_has_the_dataset_page_address_and_size():
    info = DATASETS["epfl"]
    assert info["url"] == "https://ivrlwww.epfl.ch/supplementary_material/cvpr11/nirscene1.zip"
    assert info["size"] == 952_431_486 and info["sha256"] is None
    assert download_epfl.__kwdefaults__["url"] == info["url"]
    assert download_epfl.__kwdefaults__["size"] == info["size"]


# --------------------------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------------------------
def test_cli_download_vcip2020_end_to_end(vcip, monkeypatch, capsys):
    monkeypatch.setattr(download_module, "read_manifest",
                        lambda path=None, _real=download_module.read_manifest: _real(path or vcip["manifest"]))
    root = vcip["root"]
    status = cli.main(["download", "vcip2020", "--root", str(root), "--url", vcip["base_url"],
                       "--splits", "val,test", "--workers", "2"])
    out = capsys.readouterr().out
    assert status == 0
    assert f"VCIP2020({str(root)!r}, split='train')" in out and "open_dataset(" in out
    assert (root / "Testing" / "visual" / "vis_testing_0001_nir.png").read_bytes() == \
        VCIP_FILES["Testing/visual/vis_testing_0001_nir.png"]
    assert not (root / "NIR").exists()


def _one_error_line(capsys, *expected: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    for text in expected:
        assert text in err[-1]
    assert "Traceback" not in "\n".join(err)
    return err[-1]


def test_cli_download_errors_are_one_line(epfl, tmp_path, capsys, closed_port_url):
    root = str(tmp_path / "cli")
    # the real nirscene1.zip is 952,431,486 bytes: a server announcing another size is refused before downloading
    assert cli.main(["download", "epfl", "--root", root, "--url", epfl["url"]]) == 2
    _one_error_line(capsys, f"is {len(EPFL_ZIP):,} bytes according to the server; expected 952,431,486")
    assert cli.main(["download", "epfl", "--root", root, "--url", closed_port_url + "/x.zip"]) == 2
    _one_error_line(capsys, "unzip nirscene1.zip into")
    assert cli.main(["download", "epfl", "--root", root, "--splits", "train"]) == 2
    _one_error_line(capsys, "--splits: only vcip2020")
    assert cli.main(["download", "vcip2020", "--root", root, "--sha256", "0" * 64]) == 2
    _one_error_line(capsys, "--sha256")
    assert cli.main(["download", "vcip2020", "--root", root, "--workers", "0"]) == 2
    _one_error_line(capsys, "--workers: expected at least 1, got 0")
    assert cli.main(["download", "imagenet", "--root", root]) == 2
    _one_error_line(capsys, "invalid choice: 'imagenet'")
    assert len(epfl["server"].requests) == 1
