"""Tests of course_lib.data: spectral physics, rendered scenes, dataset loaders, transforms, downloads."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data import (
    EPFLNirScene,
    MATERIAL_NAMES,
    MATERIALS,
    WAVELENGTHS,
    CenterCrop,
    PairAugment,
    PairedFolder,
    PairedGray,
    Resize,
    SpectralScenes,
    UnpairedGray,
    VCIP2020,
    daylight_illuminant,
    detect_layout,
    load_image,
    make_data,
    material_colors,
    material_responses,
    material_spectrum,
    nir_response,
    open_dataset,
    reflectance_to_rgb_nir,
    render_scene,
    safe_extract,
    save_image,
    spectrum_to_xyz,
    srgb_decode,
    to_gray,
    xyz_to_chromaticity,
)

PAINTS = [n for n in MATERIAL_NAMES if n.startswith("paint_")]


# --------------------------------------------------------------------------------------------------------------
# helpers: tiny image files
# --------------------------------------------------------------------------------------------------------------
def _rgb_array(h=12, w=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _gray_array(h=12, w=16, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)


def _write_pair(nir_path: Path, rgb_path: Path, h=12, w=16, seed=0):
    nir_path.parent.mkdir(parents=True, exist_ok=True)
    rgb_path.parent.mkdir(parents=True, exist_ok=True)
    nir, rgb = _gray_array(h, w, seed + 100), _rgb_array(h, w, seed)
    Image.fromarray(nir).save(nir_path)
    Image.fromarray(rgb).save(rgb_path)
    return nir, rgb


def _paired_folder(root: Path, names=("a", "b", "c"), ext=".png"):
    for i, n in enumerate(names):
        _write_pair(root / "nir" / f"{n}{ext}", root / "rgb" / f"{n}{ext}", seed=i)
    return root


# --------------------------------------------------------------------------------------------------------------
# physics
# --------------------------------------------------------------------------------------------------------------
def test_cie_path_flat_reflector_has_d65_white_point():
    xy = xyz_to_chromaticity(spectrum_to_xyz(np.full(len(WAVELENGTHS), 0.5)))
    assert xy == pytest.approx([0.3127, 0.3290], abs=2e-3)


def test_white_reflector_renders_neutral_srgb_and_nir():
    rgb, nir = reflectance_to_rgb_nir(np.full(len(WAVELENGTHS), 0.9))
    assert rgb == pytest.approx([0.9, 0.9, 0.9], abs=0.01)
    assert nir == pytest.approx(0.9, abs=1e-6)


def test_vegetation_brighter_in_nir_than_red():
    colors = material_colors()
    for name in ("foliage", "grass"):
        assert colors[name]["nir_linear"] > 3 * colors[name]["rgb_linear"][0], name
        r, g, b = colors[name]["rgb_linear"]
        assert g > r and g > b, f"{name} should look green"


def test_water_darker_in_nir_than_blue():
    water = material_colors()["water"]
    assert water["nir_linear"] < 0.5 * water["rgb_linear"][2]


def test_vegetation_spectrum_has_green_bump_chlorophyll_dip_and_red_edge():
    r = material_spectrum("foliage")
    at = lambda nm: r[np.argmin(np.abs(WAVELENGTHS - nm))]  # noqa: E731
    assert at(550) > at(480) and at(550) > at(670)  # green bump, chlorophyll dip
    assert at(800) > 5 * at(670)  # red edge up to the NIR plateau
    assert at(740) > at(700) > at(680)


def test_dyed_surfaces_share_nir_but_differ_in_rgb():
    resp = material_responses()
    ids = [MATERIALS[n].id for n in PAINTS]
    nir = resp[ids, 3]
    assert np.ptp(nir) < 1e-3
    rgb = resp[ids, :3]
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            assert np.abs(rgb[i] - rgb[j]).max() > 0.1, (PAINTS[i], PAINTS[j])


def test_nir_camera_is_blind_in_the_visible_and_illuminant_is_continuous():
    s = nir_response()
    assert s[WAVELENGTHS == 650][0] < 1e-3 * s[WAVELENGTHS == 850][0]
    E = daylight_illuminant()
    jumps = np.abs(np.diff(E[(WAVELENGTHS >= 775) & (WAVELENGTHS <= 800)])) / E[WAVELENGTHS == 780][0]
    assert jumps.max() < 0.05


def test_sky_is_blue_and_dim_in_nir():
    sky = material_colors()["sky"]
    r, g, b = sky["rgb_linear"]
    assert b > g > r
    assert sky["nir_linear"] < 0.5 * material_colors()["foliage"]["nir_linear"]


# --------------------------------------------------------------------------------------------------------------
# rendered scenes
# --------------------------------------------------------------------------------------------------------------
def test_spectral_scene_item_format():
    item = SpectralScenes(size=32, count=3, seed=0)[1]
    assert item["nir"].shape == (1, 32, 32) and item["rgb"].shape == (3, 32, 32)
    assert item["nir"].dtype == torch.float32 and item["rgb"].dtype == torch.float32
    assert item["material"].shape == (32, 32) and item["material"].dtype == torch.int64
    for key in ("nir", "rgb"):
        assert item[key].min() >= -1 and item[key].max() <= 1
    assert int(item["material"].max()) < len(MATERIALS) and isinstance(item["name"], str)


def test_spectral_scenes_deterministic_per_seed_and_index():
    a, b = SpectralScenes(size=32, count=4, seed=3), SpectralScenes(size=32, count=4, seed=3)
    assert torch.equal(a[2]["rgb"], b[2]["rgb"]) and torch.equal(a[2]["nir"], b[2]["nir"])
    assert not torch.equal(a[2]["rgb"], a[3]["rgb"])
    other = SpectralScenes(size=32, count=4, seed=4)
    assert not torch.equal(a[2]["rgb"], other[2]["rgb"])
    assert a[2]["name"] != other[2]["name"]


def test_scenes_hold_several_materials():
    ds = SpectralScenes(size=48, count=6, seed=0)
    counts = [len(torch.unique(ds[i]["material"])) for i in range(len(ds))]
    assert min(counts) >= 3, counts


def test_material_map_agrees_with_pixels():
    """Without noise every pixel is response[material] x a brightness shared by the bands, times the two camera
    gains: so linear RGB / response divided by linear NIR / response is one constant over the whole scene."""
    resp = material_responses()
    for index in range(3):
        scene = render_scene(48, seed=1, index=index, noise=0.0)
        lin = srgb_decode(np.concatenate([scene["rgb"], scene["nir"][..., None]], -1).astype(np.float64))
        ok = (lin > 1e-3).all(-1) & (lin < 0.98).all(-1)
        mat = scene["material"][ok]
        rel = lin[ok] / resp[mat]  # per band: gain x brightness
        ratio = rel[:, :3] / rel[:, 3:]  # gain_rgb / gain_nir for every pixel and every channel
        expected = scene["exposure"][0] / scene["exposure"][1]
        assert ok.sum() > 100
        np.testing.assert_allclose(ratio, expected, rtol=2e-3)


def test_scene_option_validation():
    with pytest.raises(ValueError, match="no_such_option"):
        SpectralScenes(size=32, count=2, no_such_option=1)
    with pytest.raises(ValueError, match="size"):
        SpectralScenes(size=2)


# --------------------------------------------------------------------------------------------------------------
# image I/O and folders
# --------------------------------------------------------------------------------------------------------------
def test_load_image_8bit_16bit_tiff_jpeg_and_alpha(tmp_path):
    rgb = _rgb_array()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    np.testing.assert_allclose(load_image(tmp_path / "a.png").permute(1, 2, 0).numpy(), rgb / 127.5 - 1, atol=1e-6)
    g16 = np.random.default_rng(0).integers(0, 65536, (10, 8), dtype=np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    np.testing.assert_allclose(load_image(tmp_path / "g16.png")[0].numpy(), g16 / 32767.5 - 1, atol=1e-5)
    import tifffile

    rgb16 = np.random.default_rng(1).integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tiff", rgb16, photometric="rgb")
    t = load_image(tmp_path / "rgb16.tiff")
    assert t.shape == (3, 6, 7)
    np.testing.assert_allclose(t.permute(1, 2, 0).numpy(), rgb16 / 32767.5 - 1, atol=1e-5)
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    assert load_image(tmp_path / "a.jpg").shape == (3, 12, 16)
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])).save(tmp_path / "rgba.png")
    assert torch.equal(load_image(tmp_path / "rgba.png"), load_image(tmp_path / "a.png"))


def test_save_image_round_trip(tmp_path):
    x = torch.linspace(-1, 1, 3 * 5 * 4).reshape(3, 5, 4)
    back = load_image(save_image(x, tmp_path / "sub" / "x.png"))
    assert (back - x).abs().max() <= 1 / 255 + 1e-6


def test_paired_folder_reads_pairs_by_name(tmp_path):
    root = _paired_folder(tmp_path / "d", names=("b", "a"))
    nir_a, rgb_a = _write_pair(root / "nir" / "a.png", root / "rgb" / "a.png", seed=5)
    ds = PairedFolder(root)
    assert len(ds) == 2 and ds.names == ["a", "b"]
    item = ds[0]
    assert item["name"] == "a" and item["nir"].shape == (1, 12, 16) and item["rgb"].shape == (3, 12, 16)
    np.testing.assert_allclose(item["nir"][0].numpy(), nir_a / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(item["rgb"].permute(1, 2, 0).numpy(), rgb_a / 127.5 - 1, atol=1e-6)


def test_three_channel_nir_is_reduced_to_its_mean(tmp_path):
    root = tmp_path / "d"
    _paired_folder(root, names=("x",))
    nir3 = _rgb_array(seed=9)
    Image.fromarray(nir3).save(root / "nir" / "x.png")
    np.testing.assert_allclose(PairedFolder(root)[0]["nir"][0].numpy(), nir3.mean(-1) / 127.5 - 1, atol=1e-5)


def test_missing_or_empty_root_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        PairedFolder(tmp_path / "nowhere")
    (tmp_path / "empty" / "nir").mkdir(parents=True)
    (tmp_path / "empty" / "rgb").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no NIR/RGB image pairs"):
        PairedFolder(tmp_path / "empty")
    (tmp_path / "half" / "nir").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="rgb/"):
        PairedFolder(tmp_path / "half")


def test_unpaired_files_are_errors_naming_the_file(tmp_path):
    root = _paired_folder(tmp_path / "d")
    Image.fromarray(_gray_array()).save(root / "nir" / "lonely.png")
    with pytest.raises(ValueError, match="lonely.png.*no RGB partner"):
        PairedFolder(root)
    (root / "nir" / "lonely.png").unlink()
    Image.fromarray(_rgb_array()).save(root / "rgb" / "orphan.png")
    with pytest.raises(ValueError, match="orphan.png.*no NIR partner"):
        PairedFolder(root)


def test_stray_non_image_files_are_skipped_with_one_warning_naming_them(tmp_path):
    root = _paired_folder(tmp_path / "d")
    for name in ("notes.txt", "Thumbs.db", ".DS_Store", "._a.png"):
        (root / "rgb" / name).write_bytes(b"junk")
    (root / "rgb" / "sub").mkdir()  # sub-folders are not part of a paired folder
    with pytest.warns(UserWarning) as record:
        ds = PairedFolder(root)
    assert ds.names == ["a", "b", "c"]
    messages = [str(w.message) for w in record if "skipping" in str(w.message)]
    assert len(messages) == 1
    for name in ("notes.txt", "Thumbs.db", ".DS_Store", "._a.png", str(root / "rgb")):
        assert name in messages[0]


def test_truncated_image_error_names_file_at_load(tmp_path):
    root = _paired_folder(tmp_path / "d")
    data = (root / "rgb" / "b.png").read_bytes()
    (root / "rgb" / "b.png").write_bytes(data[: len(data) // 2])
    ds = PairedFolder(root)  # pairing is fine; the file is only read at load
    ds[0]
    with pytest.raises(ValueError, match="b.png"):
        ds[1]


def test_size_mismatch_error_names_both_files(tmp_path):
    root = _paired_folder(tmp_path / "d")
    Image.fromarray(_rgb_array(10, 10)).save(root / "rgb" / "c.png")
    with pytest.raises(ValueError, match=r"nir.c\.png.*rgb.c\.png.*same size"):
        PairedFolder(root)[2]


def test_vcip2020_both_layouts(tmp_path):
    a = tmp_path / "a"
    _paired_folder(a / "train", names=("0001", "0002"))
    _paired_folder(a / "test", names=("0100",))
    assert len(VCIP2020(a, "train")) == 2 and VCIP2020(a, "test").names == ["0100"]
    b = tmp_path / "b"
    for i, name in enumerate(("0001", "0002", "0003")):
        _write_pair(b / "Training" / f"{name}_nir.png", b / "Training" / f"{name}_rgb.png", seed=i)
    _write_pair(b / "Testing" / "0401_nir.png", b / "Testing" / "0401_rgb.png")
    ds = VCIP2020(b, "train")
    assert ds.names == ["0001", "0002", "0003"] and ds[1]["rgb"].shape == (3, 12, 16)
    assert VCIP2020(b, "test").names == ["0401"]
    with pytest.raises(FileNotFoundError, match="Validation"):
        VCIP2020(b, "val")
    (b / "Training" / "0003_rgb.png").unlink()
    with pytest.raises(ValueError, match="0003_nir.png"):
        VCIP2020(b, "train")


# The VCIP 2020 challenge data as distributed (github.com/AlexYangxx/MCFNet, datasets/): training pairs in NIR/ +
# RGB-Registered/ with a _reg suffix on the RGB side, Validation/ with a stray .py file, Testing/ with mixed-case
# names, a _reg suffix on both sides and a visual/ sub-folder of other pictures.
def _vcip_as_distributed(root: Path, train=("country_0000", "country_0001", "field_0000"), val=2, test=3):
    for i, name in enumerate(train):
        _write_pair(root / "NIR" / f"{name}_nir.png", root / "RGB-Registered" / f"{name}_rgb_reg.png", seed=i)
    for i in range(val):
        v = root / "Validation"
        _write_pair(v / f"validation_{i:04d}_nir.png", v / f"validation_{i:04d}_rgb_reg.png", seed=10 + i)
    (root / "Validation" / "test_options.py").write_text("from .base_options import BaseOptions\n")
    for i in range(1, test + 1):
        t = root / "Testing"
        _write_pair(t / f"testing_{i:04d}_nir_reg.png", t / f"Testing_{i:04d}_rgb_reg.png", seed=20 + i)
    (root / "Testing" / "visual").mkdir(parents=True)
    Image.fromarray(_gray_array()).save(root / "Testing" / "visual" / "vis_testing_0001_nir.png")
    return root


def test_vcip2020_loads_the_layout_as_distributed(tmp_path):
    root = _vcip_as_distributed(tmp_path / "vcip")
    train = VCIP2020(root, "train")
    assert train.names == ["country_0000", "country_0001", "field_0000"]
    assert [(n.parent.name, n.name, r.parent.name, r.name) for _, n, r in train.pairs][1] == \
        ("NIR", "country_0001_nir.png", "RGB-Registered", "country_0001_rgb_reg.png")
    nir, rgb = _write_pair(root / "NIR" / "field_0000_nir.png", root / "RGB-Registered" / "field_0000_rgb_reg.png",
                           seed=42)
    item = train[2]
    np.testing.assert_allclose(item["nir"][0].numpy(), nir / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(item["rgb"].permute(1, 2, 0).numpy(), rgb / 127.5 - 1, atol=1e-6)
    with pytest.warns(UserWarning, match="test_options.py"):
        val = VCIP2020(root, "validation")
    assert val.names == ["validation_0000", "validation_0001"] and val.pairs[0][2].name == "validation_0000_rgb_reg.png"
    test = VCIP2020(root, "test")
    assert test.names == ["testing_0001", "testing_0002", "testing_0003"]  # visual/ is not part of the test set
    assert [(n.name, r.name) for _, n, r in test.pairs][2] == ("testing_0003_nir_reg.png", "Testing_0003_rgb_reg.png")
    assert test[0]["rgb"].shape == (3, 12, 16)
    # open_dataset detects the layout, also from the folder holding datasets/ (a clone of the mirror)
    assert isinstance(open_dataset(root, size=None), VCIP2020) and len(open_dataset(root, size=None)) == 3
    clone = tmp_path / "MCFNet"
    (clone / "datasets").parent.mkdir()
    root.rename(clone / "datasets")
    assert VCIP2020(clone, "test").names == test.names and detect_layout(clone) == "vcip2020"


def test_vcip2020_unmatched_test_image_names_file_and_partner(tmp_path):
    root = _vcip_as_distributed(tmp_path / "vcip")
    (root / "Testing" / "Testing_0002_rgb_reg.png").unlink()
    with pytest.raises(ValueError, match=r"testing_0002_nir_reg\.png has no RGB partner.*testing_0002_rgb"):
        VCIP2020(root, "test")
    (root / "RGB-Registered" / "country_0001_rgb_reg.png").rename(root / "RGB-Registered" / "country_0009_rgb_reg.png")
    with pytest.raises(ValueError, match=r"country_0001_nir\.png has no RGB partner"):
        VCIP2020(root, "train")
    with pytest.raises(FileNotFoundError, match=r"Testing/"):
        VCIP2020(tmp_path / "vcip" / "NIR", "test")


def test_vcip2020_exclude_train_overlap_drops_byte_identical_pairs(tmp_path):
    root = _vcip_as_distributed(tmp_path / "vcip")
    # as in the real data: Testing_0002 is a copy of a training pair, validation_0001 a copy of a test pair
    for src, dst in (("NIR/country_0001_nir.png", "Testing/testing_0002_nir_reg.png"),
                     ("RGB-Registered/country_0001_rgb_reg.png", "Testing/Testing_0002_rgb_reg.png")):
        (root / dst).write_bytes((root / src).read_bytes())
    clean = VCIP2020(root, "test", exclude_train_overlap=True)
    assert clean.names == ["testing_0001", "testing_0003"] and [p[0] for p in clean.excluded] == ["testing_0002"]
    # only the NIR side equal is not a duplicate pair
    (root / "Testing" / "Testing_0002_rgb_reg.png").write_bytes((root / "Testing" / "Testing_0001_rgb_reg.png")
                                                                .read_bytes())
    assert len(VCIP2020(root, "test", exclude_train_overlap=True)) == 3
    assert len(VCIP2020(root, "train", exclude_train_overlap=True)) == 3


def test_vcip2020_every_file_of_the_shipped_manifest_pairs_as_expected(tmp_path):
    """Empty files named exactly as in the real distribution (the manifest shipped in the package): the splits
    have the challenge's counts, and every test NIR file pairs with the RGB file of the same number."""
    from importlib import resources

    manifest = resources.files("course_lib.data").joinpath("manifests", "vcip2020.tsv").read_text()
    paths = [line.split("\t")[0] for line in manifest.splitlines() if line and not line.startswith("#")]
    root = tmp_path / "vcip"
    for rel in paths:
        target = root / rel.removeprefix("datasets/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    with pytest.warns(UserWarning, match="test_options.py"):
        counts = {split: len(VCIP2020(root, split)) for split in ("train", "val", "test")}
    assert counts == VCIP2020.EXPECTED_PAIRS == {"train": 372, "val": 18, "test": 28}
    test = VCIP2020(root, "test")
    for name, nir, rgb in test.pairs:
        number = name.split("_")[1]
        assert nir.name == f"testing_{number}_nir_reg.png" and rgb.name == f"Testing_{number}_rgb_reg.png"
    train = VCIP2020(root, "train")
    assert all(r.name == f"{name}_rgb_reg.png" and n.name == f"{name}_nir.png" for name, n, r in train.pairs)
    assert {name.split("_")[0] for name in train.names} == {"country", "field", "forest", "mountain"}


def _epfl(root: Path, categories=("field", "water"), n=7, ext=".tiff"):
    for c in categories:
        for i in range(n):
            _write_pair(root / c / f"{i:04d}_nir{ext}", root / c / f"{i:04d}_rgb{ext}", h=9, w=11, seed=i)
    return root


def test_epfl_as_the_archive_unpacks(tmp_path):
    """nirscene1.zip unpacks to nirscene1/<category>/NNNN_{nir,rgb}.tiff; stray files are skipped with a warning."""
    _epfl(tmp_path / "nirscene1", categories=("country", "urban"), n=6)
    (tmp_path / "nirscene1" / "urban" / "Thumbs.db").write_bytes(b"x")
    with pytest.warns(UserWarning, match="Thumbs.db"):
        ds = EPFLNirScene(tmp_path, "test")
    assert ds.names == ["country/0004", "urban/0004"] and ds.base == tmp_path / "nirscene1"
    assert detect_layout(tmp_path) == "epfl"


def test_epfl_partial_copy_and_deterministic_split(tmp_path):
    root = _epfl(tmp_path / "nirscene1")
    everything = EPFLNirScene(root)
    train, test = EPFLNirScene(root, "train"), EPFLNirScene(root, "test")
    assert len(everything) == 14 and everything.categories == ("field", "water")
    assert test.names == ["field/0004", "water/0004"]
    assert sorted(train.names + test.names) == sorted(everything.names)
    assert everything[0]["nir"].shape == (1, 9, 11)
    assert EPFLNirScene(tmp_path).names == everything.names  # the folder holding nirscene1/ works too


def test_epfl_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="category"):
        EPFLNirScene(tmp_path)
    root = _epfl(tmp_path / "e", categories=("forest",), n=2)
    (root / "forest" / "0001_rgb.tiff").unlink()
    with pytest.raises(ValueError, match="0001_nir.tiff"):
        EPFLNirScene(root)
    (root / "README.txt").write_text("x")
    with pytest.warns(UserWarning, match="README.txt"), pytest.raises(ValueError):
        EPFLNirScene(root)


def test_open_dataset_detects_layouts(tmp_path):
    assert isinstance(open_dataset(None, size=16, count=2), SpectralScenes)
    paired = _paired_folder(tmp_path / "p")
    ds = open_dataset(paired, size=8)
    assert isinstance(ds, PairedFolder) and ds[0]["rgb"].shape == (3, 8, 8)  # Resize(size) by default
    assert open_dataset(paired, size=None)[0]["rgb"].shape == (3, 12, 16)
    vcip = tmp_path / "v"
    _paired_folder(vcip / "train")
    assert isinstance(open_dataset(vcip), VCIP2020)
    assert isinstance(open_dataset(_epfl(tmp_path / "e"), split="test"), EPFLNirScene)
    (tmp_path / "junk").mkdir()
    with pytest.raises(ValueError, match="junk"):
        open_dataset(tmp_path / "junk")
    with pytest.raises(ValueError, match="kind"):
        open_dataset(paired, kind="bogus")


# --------------------------------------------------------------------------------------------------------------
# grayscale domain
# --------------------------------------------------------------------------------------------------------------
def test_to_gray_matches_pil_luminance():
    rgb = _rgb_array(8, 8)
    ours = to_gray(torch.from_numpy(rgb).permute(2, 0, 1).float() / 127.5 - 1)[0]
    pil = np.asarray(Image.fromarray(rgb).convert("L")).astype(np.float32) / 127.5 - 1
    assert np.abs(ours.numpy() - pil).max() <= 1.01 / 127.5  # PIL rounds to 8 bits
    batch = torch.rand(2, 3, 4, 4) * 2 - 1
    assert to_gray(batch).shape == (2, 1, 4, 4)
    with pytest.raises(ValueError, match="rgb"):
        to_gray(torch.zeros(1, 4, 4, 4))


def test_unpaired_gray_uses_other_images_once_each():
    ds = SpectralScenes(size=16, count=5, seed=0)
    pool = UnpairedGray(ds, seed=1)
    partners = [int(p) for p in pool.partner]
    assert sorted(partners) == list(range(5)) and all(p != i for i, p in enumerate(partners))
    item = pool[0]
    assert item["name"] != ds[0]["name"]
    assert torch.allclose(item["gray"], to_gray(ds[partners[0]]["rgb"]))
    paired = PairedGray(ds)[2]
    assert torch.allclose(paired["gray"], to_gray(paired["rgb"]))


# --------------------------------------------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------------------------------------------
def _gray_pair(h=40, w=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    rgb = torch.rand(3, h, w, generator=g) - 0.5  # within [-0.5, 0.5] so contrast jitter never clips
    return {"nir": to_gray(rgb), "rgb": rgb, "name": "x"}


def test_pair_augment_applies_the_same_change_to_both_images():
    aug = PairAugment(24, scale=(1.0, 1.3), flip=True, contrast=0.2)
    for seed in range(4):
        out = aug(_gray_pair(seed=seed), generator=torch.Generator().manual_seed(seed))
        assert out["nir"].shape == (1, 24, 24) and out["rgb"].shape == (3, 24, 24)
        assert torch.allclose(out["nir"], to_gray(out["rgb"]), atol=1e-5)


def test_pair_augment_is_reproducible_and_random():
    item = _gray_pair()
    aug = PairAugment(24)
    a = aug(item, generator=torch.Generator().manual_seed(7))
    b = aug(item, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a["rgb"], b["rgb"])
    outs = [aug(item, generator=torch.Generator().manual_seed(s))["rgb"] for s in range(4)]
    assert not all(torch.equal(outs[0], o) for o in outs[1:])


def test_pair_augment_flip_and_material_map_follow_the_images():
    h = w = 16
    material = torch.arange(w).repeat(h, 1)  # id = column
    nir = (material.float() / w * 2 - 1)[None]
    item = {"nir": nir, "rgb": nir.repeat(3, 1, 1), "material": material, "name": "m"}
    flips = 0
    for seed in range(6):
        out = PairAugment(16, scale=(1.0, 1.0), contrast=0.0)(item, generator=torch.Generator().manual_seed(seed))
        flipped = torch.equal(out["material"], material.flip(-1))
        flips += flipped
        assert flipped or torch.equal(out["material"], material)
        assert torch.equal(out["nir"], (out["material"].float() / w * 2 - 1)[None])
    assert 0 < flips < 6
    out = PairAugment(12, scale=(1.2, 1.2), contrast=0.0)(item, generator=torch.Generator().manual_seed(0))
    assert out["material"].dtype == torch.int64 and out["material"].shape == (12, 12)
    # nearest-neighbour ids are never blended: each output column holds one id, increasing left to right or right
    # to left, and the NIR follows the same crop (within one source pixel).
    cols = out["material"][0]
    assert (out["material"] == cols).all()
    assert (cols.diff() >= 0).all() or (cols.diff() <= 0).all()
    assert (out["nir"][0, 0] - (cols.float() / w * 2 - 1)).abs().max() <= 2 / w + 1e-6


def test_pair_augment_handles_large_images_and_spectral_items():
    big = _gray_pair(h=90, w=130)
    assert PairAugment(32)(big)["rgb"].shape == (3, 32, 32)
    item = SpectralScenes(size=32, count=1, seed=0, transform=PairAugment(16))[0]
    assert item["material"].shape == (16, 16) and item["nir"].shape == (1, 16, 16)


def test_resize_and_center_crop():
    item = _gray_pair(h=30, w=50)
    out = Resize(20)(item)
    assert out["rgb"].shape == (3, 20, 20) and torch.allclose(out["nir"], to_gray(out["rgb"]), atol=1e-5)
    crop = CenterCrop(10)(item)
    assert torch.equal(crop["rgb"], item["rgb"][:, 10:20, 20:30])
    with pytest.raises(ValueError, match="CenterCrop"):
        CenterCrop(40)(item)


# --------------------------------------------------------------------------------------------------------------
# make_data
# --------------------------------------------------------------------------------------------------------------
def test_make_data_writes_paired_folder_equal_to_scenes(tmp_path):
    written = make_data(tmp_path / "gen", count=3, size=32, seed=2)
    assert written == {"all": 3}
    ds = PairedFolder(tmp_path / "gen")
    ref = SpectralScenes(size=32, count=3, seed=2)
    assert len(ds) == 3 and sorted(ds.names) == sorted(ref[i]["name"] for i in range(3))
    i = ds.names.index(ref[1]["name"])
    assert (ds[i]["rgb"] - ref[1]["rgb"]).abs().max() <= 1 / 255 + 1e-6
    assert (ds[i]["nir"] - ref[1]["nir"]).abs().max() <= 1 / 255 + 1e-6
    mat = np.asarray(Image.open(tmp_path / "gen" / "material" / f"{ref[1]['name']}.png"))
    assert np.array_equal(mat, ref[1]["material"].numpy())


def test_make_data_splits_read_as_vcip_layout(tmp_path):
    make_data(tmp_path / "gen", count={"train": 2, "test": 1}, size=16, seed=0, split_names=("train", "test"))
    train, test = open_dataset(tmp_path / "gen", split="train"), open_dataset(tmp_path / "gen", split="test")
    assert isinstance(train, VCIP2020) and len(train) == 2 and len(test) == 1
    assert not set(train.names) & set(test.names)


# --------------------------------------------------------------------------------------------------------------
# download and safe extraction
# --------------------------------------------------------------------------------------------------------------
def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar_with(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            payload = (data or {}).get(info.name)
            if payload is not None:
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
            else:
                tf.addfile(info)
    return path


def _link(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def test_safe_extract_unpacks_zip_and_tar(tmp_path):
    z = _zip_with(tmp_path / "ok.zip", {"data/nir/a.txt": b"1", "data/rgb/a.txt": b"2"})
    safe_extract(z, tmp_path / "out1")
    assert (tmp_path / "out1" / "data" / "rgb" / "a.txt").read_bytes() == b"2"
    t = _tar_with(tmp_path / "ok.tar.gz", [tarfile.TarInfo("d/f.txt"), _link("d/l", "f.txt")], {"d/f.txt": b"hi"})
    safe_extract(t, tmp_path / "out2")
    assert (tmp_path / "out2" / "d" / "l").read_bytes() == b"hi"


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_safe_extract_refuses_escaping_paths(tmp_path, member):
    for archive in (_zip_with(tmp_path / "bad.zip", {"good.txt": b"ok", member: b"x"}),
                    _tar_with(tmp_path / "bad.tgz", [tarfile.TarInfo("good.txt"), tarfile.TarInfo(member)],
                              {"good.txt": b"ok", member: b"x"})):
        dest = tmp_path / ("dest_" + archive.suffix.strip("."))
        with pytest.raises(ValueError, match=member.replace(".", r"\.")):
            safe_extract(archive, dest)
        assert not (dest / "good.txt").exists()  # checked before anything is written
    assert not (tmp_path / "evil.txt").exists()


def test_safe_extract_allows_dotdot_that_stays_inside_and_refuses_devices(tmp_path):
    ok = _zip_with(tmp_path / "ok.zip", {"a/../b.txt": b"b"})
    safe_extract(ok, tmp_path / "out")
    assert (tmp_path / "out" / "b.txt").read_bytes() == b"b"
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    with pytest.raises(ValueError, match="'pipe'.*device or FIFO"):
        safe_extract(_tar_with(tmp_path / "fifo.tgz", [fifo]), tmp_path / "out2")


@pytest.mark.parametrize("hard", [False, True])
def test_safe_extract_refuses_links_pointing_out(tmp_path, hard):
    archive = _tar_with(tmp_path / "links.tgz", [_link("inside/link", "../../outside.txt" if not hard else
                                                       "../outside.txt", hard=hard)])
    with pytest.raises(ValueError, match="inside/link.*outside"):
        safe_extract(archive, tmp_path / "dest")
    absolute = _tar_with(tmp_path / "abs.tgz", [_link("l", "/etc/passwd", hard=hard)])
    with pytest.raises(ValueError, match="'l'"):
        safe_extract(absolute, tmp_path / "dest")


# The download tests (VCIP 2020 per-file mirror, EPFL resumable zip, offline messages, the CLI) are in
# tests/test_download.py, against a loopback HTTP server.


def test_pair_augment_window_crops_at_the_stored_scale():
    """window=size: the crop keeps the stored resolution (no zoom: a pixel-exact window of the image)."""
    x = torch.linspace(-1, 1, 64 * 80).reshape(1, 64, 80)
    item = {"nir": x, "rgb": x.expand(3, -1, -1).clone(), "name": "ramp"}
    aug = PairAugment(16, scale=(1.0, 1.0), flip=False, contrast=0.0, window=16)
    seen = set()
    for seed in range(40):
        out = aug(item, generator=torch.Generator().manual_seed(seed))
        # a 16 x 16 window of the original, unresampled: find where it came from
        top_left = (x[0] == out["nir"][0, 0, 0]).nonzero()[0].tolist()
        t, l = top_left
        assert torch.equal(out["nir"], x[:, t:t + 16, l:l + 16]) and torch.equal(out["rgb"][1], out["nir"][0])
        seen.add((t, l))
    assert len(seen) > 30  # random positions all over the image, not the centre
    zoom = PairAugment(16, scale=(2.0, 2.0), flip=False, contrast=0.0, window=16)(item)
    assert zoom["nir"].shape == (1, 16, 16)
    span = float(zoom["nir"].max() - zoom["nir"].min())  # an 8 px window zoomed 2x spans ~half the range of 16 px
    assert span < float(x[:, :16, :16].max() - x[:, :16, :16].min()) * 0.6
    whole = PairAugment(16, scale=(1.0, 1.0), flip=False, contrast=0.0)(item)  # window None: the whole image
    assert float(whole["nir"].max() - whole["nir"].min()) > 1.5
    with pytest.raises(ValueError, match="window"):
        PairAugment(16, window=0)
