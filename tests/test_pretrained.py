"""Tests of ``course_lib.pretrained`` (export, register, SHA-256-checked loading), ``colorize --pretrained`` and
the sample photos shipped in the package (``course_lib.data.sample_pairs``).

One tiny run (48 px, width 4, depth 2, 2 steps per stage, rendered scenes) is trained once for the module. Every
test works on a temporary registry (the autouse fixture ``temp_registry``), never on the shipped one, except
``test_shipped_registry_is_consistent`` which only reads it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image

from course_lib import pretrained
from course_lib.cli import main
from course_lib.data import read_manifest, sample_pairs, save_image
from course_lib.pretrained import (PRETRAINED_FORMAT, PretrainedChecksumError, export_pretrained, load_pretrained,
                                   pretrained_info, read_registry, register_pretrained)
from course_lib.train import PROFILES, load_checkpoint, load_colorizer, run_all, save_checkpoint
from vcip_tree import write_vcip_tree

TINY = PROFILES["smoke"].replace(
    image_size=48, width=4, depth=2, batch_size=2, translate_steps=2, pretrain_steps=2, finetune_steps=2,
    direct_steps=2, num_train=4, num_test=2, sample_every=2, checkpoint_every=2)

EXTRA = {"trained_with": "pytest tiny run", "scores": {"psnr": 12.5}}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder with translate, pretrain, finetune and direct trained 2 steps each (finished)."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("run")
    run_all(TINY, out, data=None, device="cpu")
    return out


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    """(file, sha256 returned by export_pretrained) of the tiny run."""
    file = tmp_path_factory.mktemp("export") / "tiny.pt"
    return file, export_pretrained(run_dir, file, "tiny", extra=EXTRA)


@pytest.fixture(autouse=True)
def temp_registry(tmp_path, monkeypatch):
    """Point the default registry at an empty temporary folder: no test depends on the shipped registry."""
    registry = tmp_path / "weights" / "registry.json"
    monkeypatch.setattr(pretrained, "REGISTRY_FILE", registry)
    return registry


@pytest.fixture()
def registered(exported, temp_registry):
    """The exported file registered as "tiny" in the temporary registry; returns the registered copy's path."""
    file, _ = exported
    register_pretrained("tiny", file, "a tiny test run", "pytest", {"psnr": 12.5})
    return temp_registry.parent / "tiny.pt"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------------------------
def test_export_keeps_only_generators_in_float16(run_dir, exported):
    file, sha = exported
    assert sha == _sha(file)
    obj = torch.load(file, map_location="cpu", weights_only=True)
    assert obj["format"] == PRETRAINED_FORMAT and obj["name"] == "tiny" and obj["extra"] == EXTRA
    assert set(obj) == {"format", "name", "course_lib_version", "routes", "extra"}
    assert set(obj["routes"]) == {"progressive", "direct"}
    for route, stage, nets in (("progressive", "finetune", {"g_n2g", "f_g"}), ("direct", "direct", {"net"})):
        stored = obj["routes"][route]
        ckpt = load_checkpoint(run_dir / stage / "checkpoint.pt")
        assert set(stored["models"]) == nets == set(stored["model_specs"])
        assert "optimizers" not in stored and "rng" not in stored and "pools" not in stored
        assert stored["model_specs"] == {n: ckpt["model_specs"][n] for n in nets}
        assert stored["profile"] == ckpt["profile"] and stored["config"] == ckpt["config"]
        assert stored["step"] == ckpt["step"] == 2 and stored["stage"] == stage
        for name in nets:
            state = stored["models"][name]
            assert set(state) == set(ckpt["models"][name])
            floats = [t for t in state.values() if t.is_floating_point()]
            assert floats and all(t.dtype == torch.float16 for t in floats)
            for key, tensor in state.items():
                assert torch.allclose(tensor.float(), ckpt["models"][name][key].float(), atol=1e-2, rtol=1e-3)
    # the finished checkpoints already hold weights only (float32, and G_G2N): float16 and two fewer nets halve it
    checkpoints = sum((run_dir / s / "checkpoint.pt").stat().st_size for s in ("finetune", "direct"))
    assert file.stat().st_size < checkpoints / 2, (file.stat().st_size, checkpoints)


def test_export_refuses_an_unfinished_checkpoint(run_dir, tmp_path):
    run = tmp_path / "run"
    for stage in ("finetune", "direct"):
        (run / stage).mkdir(parents=True)
        shutil.copy(run_dir / stage / "checkpoint.pt", run / stage / "checkpoint.pt")
    ckpt = load_checkpoint(run / "direct" / "checkpoint.pt")
    save_checkpoint(run / "direct" / "checkpoint.pt", {**ckpt, "finished": False, "step": 1})
    with pytest.raises(ValueError, match="not finished") as info:
        export_pretrained(run, tmp_path / "out.pt", "tiny")
    assert str(run / "direct" / "checkpoint.pt") in str(info.value)
    assert not (tmp_path / "out.pt").exists()
    export_pretrained(run, tmp_path / "out.pt", "tiny", allow_unfinished=True)
    assert torch.load(tmp_path / "out.pt", weights_only=True)["routes"]["direct"]["step"] == 1


def test_export_names_a_missing_checkpoint(run_dir, tmp_path):
    (tmp_path / "finetune").mkdir()
    shutil.copy(run_dir / "finetune" / "checkpoint.pt", tmp_path / "finetune" / "checkpoint.pt")
    with pytest.raises(FileNotFoundError, match="direct"):
        export_pretrained(tmp_path, tmp_path / "out.pt", "tiny")


def test_failed_export_leaves_the_previous_file_intact(run_dir, tmp_path, monkeypatch):
    out = tmp_path / "w.pt"
    out.write_bytes(b"previous")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pretrained.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_pretrained(run_dir, out, "tiny")
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]  # no temporary file left behind


def test_export_rejects_extra_that_is_not_json(run_dir, tmp_path):
    with pytest.raises(ValueError, match="extra"):
        export_pretrained(run_dir, tmp_path / "w.pt", "tiny", extra={"when": object()})


# ---------------------------------------------------------------------------------------------------------------
# register and load
# ---------------------------------------------------------------------------------------------------------------
def test_register_copies_the_file_and_records_its_digest(exported, registered, temp_registry):
    file, sha = exported
    entry = json.loads(temp_registry.read_text())["tiny"]
    assert entry == {"file": "tiny.pt", "sha256": sha, "bytes": file.stat().st_size,
                     "description": "a tiny test run", "trained_with": "pytest", "scores": {"psnr": 12.5}}
    assert registered.read_bytes() == file.read_bytes()
    register_pretrained("other", file, "again", "pytest", {})
    assert set(read_registry()) == {"tiny", "other"}


def test_register_refuses_a_file_that_is_not_exported(tmp_path):
    bogus = tmp_path / "bogus.pt"
    torch.save({"hello": torch.zeros(2)}, bogus)
    with pytest.raises(ValueError, match="not a pretrained file"):
        register_pretrained("bogus", bogus, "", "", {})


@pytest.mark.parametrize("route", ["progressive", "direct"])
@pytest.mark.parametrize("where", ["registry", "path"])
def test_loaded_colorizer_matches_the_float32_original(run_dir, exported, registered, route, where):
    stage = "finetune" if route == "progressive" else "direct"
    original = load_colorizer(run_dir / stage / "checkpoint.pt")
    path = exported[0] if where == "path" else None
    colorizer = load_pretrained("tiny", route=route, path=path)
    assert type(colorizer) is type(original) and not colorizer.training
    assert all(p.dtype == torch.float32 for p in colorizer.parameters())
    torch.manual_seed(0)
    nir = torch.rand(2, 1, 40, 56) * 2 - 1
    expected, got = original.colorize(nir), colorizer.colorize(nir)
    assert got.shape == (2, 3, 40, 56)
    assert (got - expected).abs().max() < 2e-2
    if route == "progressive":
        _, gray = colorizer.colorize(nir, return_gray=True)
        assert gray.shape == (2, 1, 40, 56)


def test_tampered_file_is_refused_before_unpickling(exported, registered, monkeypatch):
    data = bytearray(registered.read_bytes())
    data[len(data) // 2] ^= 0x01
    registered.write_bytes(bytes(data))

    def no_unpickling(*args, **kwargs):
        raise AssertionError("torch.load called on a file whose SHA-256 does not match")

    monkeypatch.setattr(pretrained.torch, "load", no_unpickling)
    with pytest.raises(PretrainedChecksumError) as info:
        load_pretrained("tiny", route="direct")
    message = str(info.value)
    for word in ("SHA-256", str(registered), exported[1], hashlib.sha256(data).hexdigest(), "reinstall",
                 "re-export"):
        assert word in message, (word, message)
    with pytest.raises(PretrainedChecksumError):
        pretrained_info("tiny")


def test_a_file_given_by_path_is_checked_against_the_registry(exported, registered, tmp_path):
    other = tmp_path / "other.pt"
    other.write_bytes(exported[0].read_bytes() + b"\0")
    with pytest.raises(PretrainedChecksumError, match="SHA-256"):
        load_pretrained("tiny", path=other)


def test_unknown_name_route_and_missing_file(registered):
    with pytest.raises(ValueError, match=r"unknown name 'nope'; known: \['tiny'\]"):
        load_pretrained("nope")
    with pytest.raises(ValueError, match=r"route: expected one of \['progressive', 'direct'\], got 'sideways'"):
        load_pretrained("tiny", route="sideways")
    registered.unlink()
    with pytest.raises(FileNotFoundError, match="tiny.pt"):
        load_pretrained("tiny")


def test_empty_registry_says_no_weights_are_shipped_and_how_to_make_them(temp_registry):
    temp_registry.parent.mkdir()
    temp_registry.write_text("{}\n")
    with pytest.raises(ValueError) as info:
        load_pretrained("vcip2020")
    message = str(info.value)
    assert "no pretrained weights are shipped" in message and "export_pretrained" in message
    assert "python -m course_lib train" in message


def test_pretrained_info_returns_entry_and_stored_metadata(run_dir, exported, registered):
    info = pretrained_info("tiny")
    assert info["sha256"] == exported[1] and info["description"] == "a tiny test run"
    assert info["extra"] == EXTRA and info["path"] == str(registered)
    ckpt = load_checkpoint(run_dir / "finetune" / "checkpoint.pt")
    assert info["routes"]["progressive"]["profile"] == ckpt["profile"]
    assert info["routes"]["progressive"]["step"] == 2 and "models" not in info["routes"]["progressive"]


def test_shipped_registry_is_consistent():
    """The package's registry is valid JSON and every file it lists is shipped with the recorded digest."""
    registry = pretrained.registry_path(Path(pretrained.__file__).parent / "weights" / "registry.json")
    assert registry.is_file()
    for name, entry in read_registry(registry).items():
        file = registry.parent / entry["file"]
        assert file.is_file(), name
        assert (_sha(file), file.stat().st_size) == (entry["sha256"], entry["bytes"]), name


# ---------------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------------
def _one_error_line(capsys, *expected: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for word in expected:
        assert word in err, (word, err)
    return err


def test_colorize_pretrained_writes_images_at_their_size(registered, tmp_path):
    src = tmp_path / "in"
    save_image(torch.rand(1, 37, 53) * 2 - 1, src / "scene.png")
    out = tmp_path / "out"
    assert main(["colorize", str(src), "--pretrained", "tiny", "--route", "direct", "--out", str(out),
                 "--device", "cpu"]) == 0
    with Image.open(out / "scene.png") as im:
        assert im.size == (53, 37) and im.mode == "RGB"
    assert main(["colorize", str(src / "scene.png"), "--pretrained", "tiny", "--out", str(tmp_path / "prog"),
                 "--save-gray", "--device", "cpu"]) == 0
    with Image.open(tmp_path / "prog" / "scene_gray.png") as im:
        assert im.size == (53, 37)


def test_colorize_with_a_checkpoint_still_works(run_dir, tmp_path, capsys):
    image = save_image(torch.rand(1, 21, 30) * 2 - 1, tmp_path / "in" / "odd.png")
    assert main(["colorize", str(image), "--checkpoint", str(run_dir), "--out", str(tmp_path / "o"),
                 "--device", "cpu"]) == 0
    with Image.open(tmp_path / "o" / "odd.png") as im:
        assert im.size == (30, 21)
    with pytest.raises(SystemExit):
        main(["colorize", "--help"])
    assert "--pretrained" in capsys.readouterr().out


def test_colorize_needs_exactly_one_source(run_dir, registered, tmp_path, capsys):
    image = save_image(torch.zeros(1, 16, 16), tmp_path / "nir.png")
    base = ["colorize", str(image), "--out", str(tmp_path / "o")]
    assert main(base + ["--checkpoint", str(run_dir), "--pretrained", "tiny"]) == 2
    _one_error_line(capsys, "--checkpoint", "--pretrained", "not both")
    assert main(base) == 2
    _one_error_line(capsys, "--checkpoint", "--pretrained")
    assert main(base + ["--checkpoint", str(run_dir), "--route", "direct"]) == 2
    _one_error_line(capsys, "--route", "--pretrained")
    assert not (tmp_path / "o").exists()


def test_colorize_pretrained_errors_are_one_line(registered, tmp_path, capsys):
    image = save_image(torch.zeros(1, 16, 16), tmp_path / "nir.png")
    assert main(["colorize", str(image), "--pretrained", "nope", "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "nope", "tiny")
    registered.write_bytes(registered.read_bytes()[:-1])
    assert main(["colorize", str(image), "--pretrained", "tiny", "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "SHA-256 mismatch", "tiny.pt", "reinstall")


# ---------------------------------------------------------------------------------------------------------------
# sample photos
# ---------------------------------------------------------------------------------------------------------------
def test_sample_pairs_are_three_real_colour_photos():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the README must not sit in the image folder (PairedFolder would warn)
        pairs = sample_pairs()
    assert len(pairs) == 3
    names = []
    for item in pairs:
        names.append(item["name"])
        nir, rgb = item["nir"], item["rgb"]
        assert nir.shape == (1, 256, 256) and rgb.shape == (3, 256, 256)
        assert rgb.min() >= -1 and rgb.max() <= 1 and rgb.std() > 0.1
        assert (rgb - nir).abs().mean() > 0.05  # RGB is not the NIR image
        assert (rgb[0] - rgb[2]).abs().mean() > 0.02  # and it has colour: its channels differ
    assert names == ["validation_0006", "validation_0010", "validation_0016"]
    assert Path(pretrained.__file__).parent in pairs.root.parents  # inside the package, never /work/shared


def test_sample_files_are_byte_copies_of_the_pinned_challenge_files():
    manifest = {e.path: e for e in read_manifest()}
    files = sorted(sample_pairs().root.iterdir())
    assert len(files) == 6
    for file in files:
        entry = manifest[f"datasets/Validation/{file.name}"]
        assert (file.stat().st_size, _sha(file)) == (entry.size, entry.sha256), file.name
    readme = (sample_pairs().root.parent / "README.md").read_text()
    for word in ("be885bd2e1b928be2115bd74217143657e0558f5", "EPFL RGB-NIR Scene", "educational"):
        assert word in readme


def test_sample_pairs_transform_and_unknown_name():
    from course_lib.data import Resize

    assert sample_pairs(transform=Resize(64))[1]["rgb"].shape == (3, 64, 64)
    with pytest.raises(ValueError, match="unknown sample set 'epfl'.*vcip2020"):
        sample_pairs("epfl")


# ---------------------------------------------------------------------------------------------------------------
# showcase (what notebooks 07-11 show with the shipped weights)
# ---------------------------------------------------------------------------------------------------------------
def test_showcase_uses_the_registered_weights_on_the_sample_photos(registered):
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.course import showcase
    from course_lib.data import to_gray

    fig, stats = showcase.translator_figure("tiny")
    assert [s["name"] for s in stats] == ["validation_0006", "validation_0010", "validation_0016"]
    colorizer = load_pretrained("tiny", route="progressive")
    item = showcase.sample_items()[0]
    with torch.no_grad():
        gray = colorizer.translate(item["nir"][None])[0].clamp(-1, 1)
    true = to_gray(item["rgb"])
    corr = float(torch.corrcoef(torch.stack([gray.flatten(), true.flatten()]))[0, 1])
    assert stats[0]["translated_corr"] == pytest.approx(corr, abs=1e-5)
    # the NIR image's own score against the true gray is measured too, and differs from the translation's
    assert stats[0]["nir_corr"] != pytest.approx(stats[0]["translated_corr"], abs=1e-3)
    fig, rows = showcase.colouriser_figure("tiny")
    f_g = load_pretrained("tiny", route="progressive").f_g
    item = showcase.sample_items()[1]
    with torch.no_grad():
        expected = f_g(to_gray(item["rgb"])[None])[-1].clamp(-1, 1)
    from course_lib.metrics import psnr_per_image

    assert rows[1]["F_G(gray) PSNR"] == pytest.approx(float(psnr_per_image(expected, item["rgb"][None])[0]), abs=1e-6)
    assert len(fig.axes) == 15 and fig.axes[1].get_title().startswith("F_G(gray)")
    fig = showcase.routes_figure("tiny")
    assert [a.get_title() for a in fig.axes[:5]] == ["NIR", "progressive", "direct", "mean colour", "ground truth"]
    table = showcase.scores_table("tiny")
    assert "MPFNet (paper)" in table and "shipped progressive (3 sample pairs)" in table
    mean = pretrained_info("tiny")["extra"].get("mean_training_colour")
    painted = showcase.mean_colour_of_samples("tiny")(torch.zeros(1, 1, 8, 8))
    if mean is not None:  # the exported run recorded it: that colour is painted
        assert torch.allclose(painted[0, :, 0, 0], torch.tensor(mean))
    with pytest.raises(ValueError, match="nope"):
        showcase.routes_figure("nope")


def test_cpu_profile_recipe_adds_the_paired_translator_term():
    from course_lib.losses import LossWeights
    from course_lib.train import make_configs
    from course_lib.train.configs import default_config

    cpu = PROFILES["cpu"]
    assert cpu.crop == "stored" and cpu.image_size == 128
    assert default_config("translate", cpu).weights.lambda_paired == 10.0
    assert default_config("finetune", cpu).weights.lambda_paired == 10.0
    assert default_config("translate", PROFILES["course"]).weights == LossWeights()   # the paper's elsewhere
    assert make_configs(cpu, weights=LossWeights())["translate"].weights.lambda_paired == 0.0  # overrides win


# ---------------------------------------------------------------------------------------------------------------
# tools/ship_weights.py
# ---------------------------------------------------------------------------------------------------------------
def test_ship_weights_takes_the_direct_route_from_another_run(run_dir, tmp_path, temp_registry):
    import importlib.util

    from course_lib.train import DirectConfig, train_direct

    other = tmp_path / "other"
    train_direct(TINY.replace(direct_steps=3, checkpoint_every=3), other, None, DirectConfig(seed=1), device="cpu")
    spec = importlib.util.spec_from_file_location("ship_weights", Path(__file__).parents[1] / "tools" / "ship_weights.py")
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    root = write_vcip_tree(tmp_path / "vcip", train=2, size=48)
    assert ship.main(["--run", str(run_dir), "--direct-run", str(other), "--root", str(root), "--name", "mixed"]) == 0
    entry = read_registry(temp_registry)["mixed"]
    assert "direct route from other" in entry["trained_with"] and set(entry["scores"]) == {"progressive", "direct"}
    assert entry["description"].endswith("`smoke` profile on a CPU: progressive and direct routes")
    binned = {"kind": "binned_mpfnet", "n_bins": 127, "temperature": 1.0, "stride": 4}
    assert "chroma-bin head on F_G (127 bins on 4 x 4 blocks, T = 1" in ship.describe({"width": 8, "depth": 3,
                                                                                       "name": "cpu"}, binned)
    x = torch.rand(1, 1, 48, 48) * 2 - 1
    with torch.no_grad():
        shipped = {r: load_pretrained("mixed", route=r)(x) for r in ("progressive", "direct")}
        direct_other = load_colorizer(other / "direct")(x)
        direct_run = load_colorizer(run_dir / "direct")(x)
        progressive_run = load_colorizer(run_dir / "finetune")(x)
    assert torch.allclose(shipped["direct"], direct_other, atol=2e-2)          # float16 weights
    assert not torch.allclose(shipped["direct"], direct_run, atol=2e-2)
    assert torch.allclose(shipped["progressive"], progressive_run, atol=2e-2)
    # --direct-from: a new file whose direct route is the registered file's, weight for weight
    assert ship.main(["--run", str(run_dir), "--direct-from", "mixed", "--root", str(root), "--name", "again"]) == 0
    entry = read_registry(temp_registry)["again"]
    assert "direct route from the registered weights 'mixed'" in entry["trained_with"]
    stored = {n: pretrained.route_checkpoint(n, "direct") for n in ("mixed", "again")}
    for key, tensor in stored["mixed"]["models"]["net"].items():
        assert torch.equal(stored["again"]["models"]["net"][key], tensor), key
    assert stored["again"]["model_specs"] == stored["mixed"]["model_specs"]
    before = read_registry(temp_registry)["mixed"]["scores"]["direct"]   # measured on its float32 weights
    assert entry["scores"]["direct"]["psnr"] == pytest.approx(before["psnr"], abs=0.01)
    with pytest.raises(SystemExit):
        ship.main(["--run", str(run_dir), "--direct-from", "mixed", "--direct-run", str(other), "--root", str(root)])


def test_export_writes_the_current_layout_and_refuses_weights_that_do_not_fit(run_dir, tmp_path):
    """A checkpoint saved before the finest SCCM lost its unused convs exports without those keys (the model's
    load hook drops them), and weights that do not fit their spec are refused with the checkpoint's name."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    path = run / "finetune" / "checkpoint.pt"
    ckpt = load_checkpoint(path)
    state = ckpt["models"]["f_g"]
    last = max(int(k.split(".")[1]) for k in state if k.startswith("heads."))
    width = state[f"heads.{last}.to_image.weight"].shape[1]
    state[f"heads.{last}.features.weight"] = torch.zeros(width, width, 3, 3)     # the legacy refinement convs
    state[f"heads.{last}.features.bias"] = torch.zeros(width)
    state[f"heads.{last}.gate.weight"] = torch.zeros(width, 3, 3, 3)
    state[f"heads.{last}.gate.bias"] = torch.zeros(width)
    save_checkpoint(path, ckpt)
    file = tmp_path / "legacy.pt"
    export_pretrained(run, file, "legacy")
    exported = torch.load(file, map_location="cpu", weights_only=True)["routes"]["progressive"]["models"]["f_g"]
    assert not any(".features." in k or ".gate." in k for k in exported if k.startswith(f"heads.{last}."))
    assert set(exported) == set(load_colorizer(run_dir / "finetune").f_g.state_dict())
    state[f"heads.{last}.to_image.weight"] = torch.zeros(3, width + 1, 3, 3)        # a shape the spec cannot take
    save_checkpoint(path, ckpt)
    with pytest.raises(ValueError, match=r"weights of 'f_g' in .*checkpoint.pt do not fit its model spec"):
        export_pretrained(run, tmp_path / "bad.pt", "bad")
