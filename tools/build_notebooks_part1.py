"""Generate notebooks 00-06 of the course from this file (nbformat), without outputs.

    python tools/build_notebooks_part1.py            # writes notebooks/00_setup.ipynb ... 06_losses_and_metrics.ipynb
    python tools/build_notebooks_part1.py 04_feb     # only that one
    python tools/build_notebooks_part1.py --out DIR  # into DIR instead of notebooks/

The notebooks are the course's source of truth for students; this script is only a convenient way to author
them (plain Python strings are easier to review than JSON). Edit here and regenerate, or edit the notebooks in
Jupyter and stop using the script: either way, commit them without outputs. Every code cell only uses
``course_lib`` (tested code) and is run by ``pytest --nbval-lax notebooks/``. ``tests/test_notebooks_source.py``
rebuilds every notebook and fails when a committed one differs from what the builders make, so a notebook edited
in Jupyter must be brought back here (or the builders retired) before it is committed.

The repository address has one home: ``Repository`` under ``[project.urls]`` in ``pyproject.toml``. The builders
read it from there (:func:`repository_url`) for every notebook's Colab badge and install cell; the installed
package carries it in its metadata (``importlib.metadata.metadata("course_lib").get_all("Project-URL")``); the
README's Colab links are written by hand and the same test checks that they agree. For a fork: change that one
line, regenerate both parts (``python tools/build_notebooks_part1.py && python tools/build_notebooks_part2.py``)
and update the README's links.

On Colab the install cell also enables Colab's custom widget manager (``output.enable_custom_widget_manager()``),
through which Colab renders ipywidgets 8 (what ``course_lib`` requires). Every notebook gets it, not only those
with a panel (notebook 10's ablation panel): every ``tqdm.auto`` progress bar in a notebook is an ipywidget too.
Off Colab the cell does nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
GITHUB = "https://github.com/"


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The course repository's address, ``Repository`` under ``[project.urls]`` in pyproject.toml (its one home)."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the one line
        match = re.search(r'^\[project\.urls\][^\[]*?^Repository\s*=\s*"([^"]+)"', text, flags=re.M | re.S)
        url = match.group(1) if match else None
    else:
        url = tomllib.loads(text).get("project", {}).get("urls", {}).get("Repository")
    if not url or not url.startswith(GITHUB):
        raise SystemExit(f"{pyproject}: [project.urls] Repository must be a {GITHUB}<organisation>/<repository> "
                         f"address (Colab opens notebooks from GitHub), found {url!r}")
    return url.rstrip("/")


ORG_REPO = repository_url()[len(GITHUB):]  # "<organisation>/<repository>", as Colab's GitHub links want it


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


def header(name: str, title: str, goal: str) -> list:
    link = f"https://colab.research.google.com/github/{ORG_REPO}/blob/main/notebooks/{name}.ipynb"
    return [
        md(f"""
# {title}

[![Open In Colab]({BADGE})]({link})

> The Colab link and the install cell below point at `github.com/{ORG_REPO}`. If the course lives
> elsewhere (a fork, another organisation), change the organisation/repository in both so they match the
> repository's GitHub location (maintainers: set `Repository` under `[project.urls]` in `pyproject.toml` and
> regenerate the notebooks with `tools/build_notebooks_part1.py` and `tools/build_notebooks_part2.py`).

**Goal.** {goal}
"""),
        code(f"""
# On Colab: install the course package from GitHub and let Colab render ipywidgets 8 (the progress bars and
# panels). On your own machine (package already installed) this does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/{ORG_REPO}"], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()
"""),
    ]


SETUP = """
%matplotlib inline
import torch
from course_lib import exercises, solutions, viz
from course_lib.train.profiles import get_profile

profile = get_profile()   # "smoke" on a CPU (small and fast), "course" on a GPU; COURSE_PROFILE overrides
SIZE = profile.image_size
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0);
"""


# ==============================================================================================================
# 00 setup
# ==============================================================================================================
def nb00() -> list:
    return header(
        "00_setup", "00 · Setup and a tour of the course",
        "get the course running (Colab or your own machine), see which profile your hardware will run, and take "
        "a first look at the whole method: the paper's Fig. 1, a rendered NIR/RGB pair and the network.",
    ) + [
        code("""
%matplotlib inline
import torch
from course_lib import exercises, solutions, viz
"""),
        md("""
## 1. Where am I running?

Everything in this course runs on a CPU in the small **smoke** profile (64 px images, narrow networks, a few
training steps) and on a GPU in the **course** profile (256 px, networks sized for the 372 training photos; about
22 min of training in total on a Colab T4 is an estimate from counted FLOPs, not yet measured on a GPU).
On Colab, pick a GPU under *Runtime → Change runtime type* before you start.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
import platform
import course_lib

print("python", platform.python_version(), "| torch", torch.__version__, "| course_lib", course_lib.__version__)
if torch.cuda.is_available():
    print("GPU:", torch.cuda.get_device_name(0))
else:
    print("no GPU: get_profile() will pick the small 'smoke' profile (unless COURSE_PROFILE says otherwise)")
"""),
        md("""
## 2. Which profile will run?

A *profile* fixes sizes and schedules, never the models or the losses. `get_profile()` picks one: the
`COURSE_PROFILE` environment variable if set, else `course` on a CUDA machine and `smoke` otherwise, and says
which. Every later notebook starts with the same call.
"""),
        code("""
from course_lib.train.profiles import PROFILES, get_profile

profile = get_profile()
SIZE = profile.image_size
viz.show_table([p.to_dict() for p in PROFILES.values()],
               columns=["name", "image_size", "width", "depth", "batch_size", "translate_steps",
                        "pretrain_steps", "finetune_steps", "amp"])
assert profile.name in PROFILES
"""),
        md("This is the code that just chose (shown from the package, so it is the code that runs):"),
        code("viz.show_source(get_profile)"),
        md("""
## 3. A tour of the course

| notebook | what you build or measure |
| --- | --- |
| **00 setup** | this notebook: install, profiles, the pipeline |
| **01 NIR and ambiguity** | spectra, the two cameras, why NIR → RGB has many answers |
| **02 data** | datasets, loaders, the paper's augmentation, the gray domain |
| **03 coordinate attention and RCAB** | Fig. 2(b), step by step |
| **04 FEB** | Fig. 2(c): the UNet, its shapes, what InstanceNorm does to colour |
| **05 SCCM and MPFNet** | Fig. 2(a): three scales, cross-scale skips, a first training run |
| **06 losses and metrics** | L_mix vs L1 vs SSIM; PSNR, SSIM, AE, LPIPS (Table I) |
| 07 CycleGAN translator | stage 1: NIR ↔ gray (Eq. 1) |
| 08 colorizer pre-training | stage 2: gray → RGB (Eq. 2) |
| 09 progressive fine-tuning | stage 3: NIR → gray → RGB (Eqs. 3-5) |
| 10 evaluation and ablations | Table I, the ablation panel |
| 11 real data | VCIP 2020 and EPFL |

Each notebook has the same shape: a goal, a picture, code from `course_lib`, an experiment, an exercise with an
automatic check, and a summary.
"""),
        md("""
## 4. The paper in one picture (Fig. 1)

MPFNet does not colorize NIR directly. A translator **G_N2G** first turns the NIR image into a plausible
*grayscale* image; a colorizer **F_G**, pre-trained on real grayscale images, then adds colour. Three training
stages, drawn in three colours below (the diagram is drawn from code: `viz.draw_pipeline`).
"""),
        code("fig = viz.draw_pipeline()"),
        md("""
1. **translate** (green): a CycleGAN between NIR and gray images, Eq. (1): two generators G_N2G, G_G2N, two
   PatchGAN discriminators, cycle and identity losses.
2. **pretrain** (red): F_G learns gray → RGB on the gray versions of the RGB images, Eq. (2). Grayscale
   colorization only has to guess chrominance; NIR → RGB has to guess luminance too.
3. **fine-tune** (blue): NIR → G_N2G → F_G → RGB, with the multi-scale loss L_pf (Eq. 3), L_tran and a feature
   discriminator D_G^feat (Eqs. 4-5).

Both G's and F_G are the same network, MPFNet (Fig. 2), with 1 → 1 or 1 → 3 channels.
"""),
        md("""
## 5. A first pair

Real NIR/RGB datasets cannot be downloaded everywhere, so `course_lib` renders physically grounded pairs:
the same scene seen by an RGB camera and by an NIR camera, with a material map (notebook 01 explains how).
"""),
        code("""
from course_lib.data import MATERIAL_NAMES, SpectralScenes

scenes = SpectralScenes(size=SIZE, count=4, seed=0)
item = scenes[0]
print({key: tuple(value.shape) if torch.is_tensor(value) else value for key, value in item.items()})
fig = viz.show_item(item, MATERIAL_NAMES)
"""),
        md("""
## 6. The network, untrained

F_G takes a gray image and returns **three** predictions, coarsest first (1/4, 1/2 and full size), each in
[-1, 1]. Untrained, they are meaningless; notebook 05 trains one for a few steps.
"""),
        code("""
from course_lib.data import to_gray
from course_lib.models import MPFNet, count_parameters

torch.manual_seed(0)
model = MPFNet(1, 3, width=profile.width, depth=profile.depth)
with torch.no_grad():
    predictions = model(to_gray(item["rgb"])[None])
print(f"MPFNet: {count_parameters(model):,} parameters;", "outputs", [tuple(p.shape) for p in predictions])
assert [p.shape[-1] for p in predictions] == [SIZE // 4, SIZE // 2, SIZE]
fig = viz.show_scale_predictions({"untrained F_G": predictions}, target=item["rgb"])
"""),
        md("""
## 7. Exercise: images in the models' range

Image files store 8-bit values 0..255 as *height × width × channels*. Every `course_lib` model takes float
tensors *channels × height × width* in [-1, 1]. Write the conversion; the check tells you what is off.
"""),
        code('''
def to_model_range(image):
    """uint8 array H x W x 3 (0..255) -> float tensor 3 x H x W in [-1, 1]."""
    # your code here (one or two lines)
    raise NotImplementedError


exercises.check_to_model_range(to_model_range)
'''),
        md("""
*For instructors:* the reference solutions live in `course_lib.solutions`. The cell below checks the one for
this exercise, and that it inverts the 8-bit conversion `course_lib.data` uses when it saves images.
"""),
        code("""
from course_lib.data import tensor_to_uint8

assert exercises.check_to_model_range(solutions.to_model_range)
image = tensor_to_uint8(item["rgb"])          # uint8 H x W x 3, as a PNG file stores it
assert torch.allclose(solutions.to_model_range(image), item["rgb"], atol=1 / 127.5)
"""),
        md("""
## Summary

- `get_profile()` picks `smoke` (CPU) or `course` (GPU); sizes and schedules change, models and losses do not.
- MPFNet's route is NIR → gray → RGB (Fig. 1), trained in three stages: translate, pretrain, fine-tune.
- Pairs come from rendered spectral scenes by default; items are dicts of [-1, 1] tensors.
- F_G returns three predictions, coarsest first.

Next: **01**, why NIR → RGB is ambiguous in the first place.
"""),
    ]


# ==============================================================================================================
# 01 NIR and ambiguity
# ==============================================================================================================
def nb01() -> list:
    return header(
        "01_nir_and_ambiguity", "01 · NIR and the mapping ambiguity",
        "see what an RGB camera and an NIR camera measure, from the spectra of light and materials, and why "
        "one NIR value can come from many colours (the paper's *mapping ambiguity*).",
    ) + [
        code(SETUP + "from course_lib import data"),
        md("""
## 1. The light

A camera pixel measures light reflected by a surface: the **illuminant** E(λ) times the surface's
**reflectance** R(λ), weighted by the sensor's **sensitivity** S(λ) and summed over wavelengths. Our daylight
is CIE D65 in the visible, continued by a black body at the same colour temperature past 780 nm.
"""),
        code("""
wl = data.WAVELENGTHS                      # 400 ... 1000 nm
cams = data.camera_responses()             # illuminant and both cameras on that grid
fig = viz.plot_spectra(wl, {"daylight": cams["illuminant"] / cams["illuminant"].max()},
                       ylabel="relative power", title="Daylight: D65, then a 6504 K black body past 780 nm")
"""),
        md("""
## 2. The two cameras

The RGB camera is modelled by the CIE 1931 observer (x̄, ȳ, z̄, then a fixed matrix to sRGB); the NIR camera by a
silicon sensor behind a long-pass filter opening at ~780 nm, as the cameras of the EPFL dataset. Their bands
**do not overlap**: nothing the NIR camera measures tells it directly what the RGB camera would see.
"""),
        code("""
xyz, nir_s = cams["xyz"], cams["nir"]
curves = {"x̄ (reddish)": xyz[:, 0] / xyz.max(), "ȳ (luminance)": xyz[:, 1] / xyz.max(),
          "z̄ (bluish)": xyz[:, 2] / xyz.max(), "NIR camera": nir_s / nir_s.max()}
colors = {"x̄ (reddish)": "tab:red", "ȳ (luminance)": "tab:green", "z̄ (bluish)": "tab:blue", "NIR camera": "0.3"}
fig = viz.plot_spectra(wl, curves, colors=colors, ylabel="relative response", title="What each camera integrates")
assert xyz[wl > 800].max() < 1e-3 * xyz.max()        # the RGB camera is blind past 800 nm ...
assert nir_s[wl < 700].max() < 1e-2 * nir_s.max()    # ... and the NIR camera below 700 nm
"""),
        md("""
## 3. Materials

Each material of the scenes has a reflectance spectrum. Vegetation has the famous **red edge**: dark in the
red (chlorophyll absorbs near 670 nm), then a jump to a bright NIR plateau. Water absorbs NIR: dark. The sky's
light falls off with wavelength (Rayleigh): blue, and dim in NIR.
"""),
        code("""
natural = ["foliage", "grass", "soil", "sand", "water", "asphalt", "brick", "sky"]
fig = viz.plot_spectra(wl, {name: data.material_spectrum(name) for name in natural},
                       title="Natural materials (sky: radiance relative to daylight)")
"""),
        md("How a spectrum becomes what each camera sees (the renderer does this once per material):"),
        code("viz.show_source(data.reflectance_to_rgb_nir)"),
        md("""
## 4. Same NIR, different colours

Dyes and paints absorb in the visible, and most are transparent in the NIR: there, the substrate sets the
reflectance, whatever the colour. The five paints of our material table differ in the visible and are
**identical** past 780 nm.
"""),
        code("""
colors = data.material_colors()            # per material: display sRGB and NIR value under daylight
paints = [name for name in data.MATERIAL_NAMES if data.MATERIALS[name].group == "paint"]
fig = viz.plot_spectra(wl, {p: data.material_spectrum(p) for p in paints},
                       colors={p: colors[p]["srgb"] for p in paints},   # each curve in its own colour
                       title="Dyed surfaces: different in the visible, one curve past 780 nm")
"""),
        code("""
names = list(colors)
fig = viz.plot_material_swatches(names, [colors[n]["srgb"] for n in names], [colors[n]["nir"] for n in names],
                                 title="Top: what the RGB camera sees. Bottom: what the NIR camera sees.")
paint_nir = [colors[p]["nir"] for p in paints]
print("NIR value of each paint:", {p: round(v, 3) for p, v in zip(paints, paint_nir)})
assert max(paint_nir) - min(paint_nir) < 0.01                              # five colours, one NIR value
assert colors["foliage"]["nir"] > max(colors["foliage"]["srgb"])           # leaves: bright in NIR
assert colors["water"]["nir"] < min(colors["water"]["srgb"][1:])            # water: dark in NIR
"""),
        md("""
Two lessons from the swatches. *Vegetation is bright in NIR* (brighter than anything green in RGB), water and
sky are dark: a NIR image's brightness is not the RGB image's brightness, so NIR → RGB must estimate
**luminance** as well as colour. And the paints share one gray: from a single pixel, no method can tell red
from blue.

## 5. Rendered scenes and their material maps
"""),
        code("""
scenes = data.SpectralScenes(size=SIZE, count=6, seed=0)
item = scenes[1]
fig = viz.show_item(item, data.MATERIAL_NAMES)
"""),
        md("""
**Many colours for one NIR value.** Below, every dot is a pixel of the six scenes, placed at its NIR value
(x) and its RGB luminance (y), drawn in its RGB colour. A vertical line of different colours is one input with
many correct answers.
"""),
        code("""
items = [scenes[i] for i in range(len(scenes))]
nir = torch.cat([it["nir"] for it in items], dim=2)      # the scenes side by side
rgb = torch.cat([it["rgb"] for it in items], dim=2)
fig = viz.plot_nir_vs_rgb(nir, rgb)
"""),
        md("""
**What a pixel-wise network learns there.** Trained with an L2 loss on pixels it cannot tell apart, a network
converges to their *average* colour: the dull swatch on the right. This is the "monotonous, if not erroneous"
prediction of the paper's introduction. Context (shape, texture, neighbours) is the only way out, which is
what MPFNet's multi-scale design and the detour through grayscale are for.
"""),
        code("""
paint_rgb = torch.tensor([colors[p]["srgb"] for p in paints])
average = paint_rgb.mean(dim=0, keepdim=True)
fig = viz.plot_material_swatches(paints + ["L2 answer"], torch.cat([paint_rgb, average]).numpy(),
                                 paint_nir + [sum(paint_nir) / len(paint_nir)], title="Same NIR input, one L2 answer")
"""),
        md("""
## 6. Exercise: what a camera pixel sees

Write the pixel value of a surface with reflectance `R` under light `E`, seen by a sensor of sensitivity `S`,
all sampled on the same wavelengths. Normalise it so that a perfect white surface (R = 1 everywhere) reads 1.
"""),
        code('''
def camera_response(reflectance, illuminant, sensitivity):
    """White-normalised pixel value of a surface: one number."""
    # your code here
    raise NotImplementedError


exercises.check_camera_response(camera_response)
'''),
        md("*For instructors:* the solution passes, and it reproduces the NIR values the scene renderer uses."),
        code("""
assert exercises.check_camera_response(solutions.camera_response)
for name in ["foliage", "water", "paint_red"]:
    value = solutions.camera_response(data.material_spectrum(name), cams["illuminant"], cams["nir"])
    print(f"{name:10s} NIR (linear) = {value:.3f}")
    assert abs(value - colors[name]["nir_linear"]) < 1e-4
"""),
        md("""
## Summary

- A pixel is sum(R · E · S) over wavelengths; the RGB and NIR cameras integrate **non-overlapping** bands.
- NIR brightness is not RGB brightness (vegetation bright, water and sky dark): luminance must be estimated too.
- Dyed surfaces share one NIR value whatever their colour: per pixel, NIR → RGB has many answers, and a
  pixel-wise loss averages them into dull colours.
- The rendered scenes carry material maps, so we can always ask *which* pixels were ambiguous.

Next: **02**, the datasets, the loaders and the gray domain.
"""),
    ]


# ==============================================================================================================
# 02 data
# ==============================================================================================================
def nb02() -> list:
    return header(
        "02_data", "02 · Data: datasets, loaders, augmentation, the gray domain",
        "load NIR/RGB pairs (rendered or real) as tensors, batch them, augment a pair the way the paper does, and "
        "build the grayscale domain X_G that MPFNet's progressive route goes through.",
    ) + [
        code(SETUP + "from course_lib.data import PairAugment, UnpairedGray, open_dataset, to_gray"),
        md("""
## 1. Three sources of pairs

| dataset | pairs | size | where |
| --- | --- | --- | --- |
| VCIP 2020 NIR-to-RGB challenge (the paper's Table I) | 372 train + 28 test | 256 × 256 | challenge organisers |
| EPFL RGB-NIR Scene (Table II) | 477 in 9 categories | ~1024 × 680 | EPFL IVRL |
| Spectral scenes (this course) | any number | any size | rendered by `course_lib` |

`open_dataset(None)` renders spectral scenes; `open_dataset(folder)` detects a dataset's layout. Every item is
the same dict: `"nir"` [1, H, W] and `"rgb"` [3, H, W] in [-1, 1], and a `"name"`.
"""),
        code("""
train = open_dataset(None, size=SIZE, count=8, seed=0)            # no folder: rendered spectral scenes
test = open_dataset(None, split="test", size=SIZE, count=4, seed=0)   # a disjoint set of scenes
print(train, "|", test)
item = train[0]
for key, value in item.items():
    print(f"  {key:9s}", (tuple(value.shape), value.dtype) if torch.is_tensor(value) else value)
assert item["nir"].shape == (1, SIZE, SIZE) and item["rgb"].shape == (3, SIZE, SIZE)
assert -1 <= float(item["rgb"].min()) and float(item["rgb"].max()) <= 1
assert train[0]["name"] != test[0]["name"]
"""),
        md("## 2. Batches"),
        code("""
from torch.utils.data import DataLoader

loader = DataLoader(train, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
batch = next(iter(loader))
print({key: tuple(value.shape) for key, value in batch.items() if torch.is_tensor(value)})
fig = viz.show_images(list(batch["nir"]) + list(batch["rgb"]), ncols=4,
                      titles=[f"NIR {n[-3:]}" for n in batch["name"]] + [f"RGB {n[-3:]}" for n in batch["name"]])
"""),
        md("""
## 3. Augmentation on a pair

Section III.A: *"scaling, mirroring, random size cropping, and contrast adjustment"*. The same random choice
must hit both images of a pair, or the network learns from misaligned targets. `PairAugment` draws the
parameters once and applies them to every image of the item (the material map too, nearest-neighbour).
"""),
        code("""
augment = PairAugment(SIZE, scale=(1.0, 1.3), flip=True, contrast=0.2)
generator = torch.Generator().manual_seed(0)
views = [augment(item, generator=generator) for _ in range(4)]
fig = viz.show_images([v["nir"] for v in views] + [v["rgb"] for v in views], ncols=4,
                      titles=[f"view {k} NIR" for k in range(4)] + [f"view {k} RGB" for k in range(4)])
assert all(v["nir"].shape == (1, SIZE, SIZE) and v["material"].shape == (SIZE, SIZE) for v in views)
"""),
        code("viz.show_source(PairAugment.__call__)"),
        md("""
## 4. The gray domain

MPFNet's detour goes through grayscale images: `x_g` is the luminance of an RGB image with the ITU-R BT.601
weights (what PIL's `convert("L")` computes). The *paired* gray of an item comes from its own RGB; the CycleGAN
of stage 1 also needs an *unpaired* pool: grays of other images (`UnpairedGray`).
"""),
        code("""
gray = to_gray(item["rgb"])
other = UnpairedGray(train, seed=0)[0]
difference = (item["nir"] - gray) / 2                      # bright: brighter in NIR than in gray
fig = viz.show_images([item["nir"], gray, difference, other["gray"]],
                      titles=["NIR x_n", "paired gray x_g", "NIR - gray", f"unpaired gray ({other['name'][-3:]})"])
assert other["name"] != item["name"]
"""),
        code("viz.show_source(to_gray)"),
        md("""
NIR and gray look alike only at first sight: vegetation is much brighter in NIR, sky and water darker. Stage 1
learns exactly this difference (NIR → gray), so that the colorizer only has to solve the easier gray → RGB.

## 5. Exercise: the gray domain

First the weights. A plain average is a reasonable first guess; the check says why it is not BT.601.
"""),
        code("""
weights = (1 / 3, 1 / 3, 1 / 3)     # R, G, B: a first guess. Change it until the check passes.
exercises.check_luminance_weights(weights)
"""),
        md("Now the function, on [-1, 1] tensors, for a single image [3, H, W] and for a batch [N, 3, H, W]:"),
        code('''
def my_to_gray(rgb):
    """[..., 3, H, W] in [-1, 1] -> [..., 1, H, W] in [-1, 1]."""
    # your code here
    raise NotImplementedError


exercises.check_to_gray(my_to_gray)
'''),
        md("*For instructors:* the reference solutions pass, and agree with `course_lib.data.to_gray`."),
        code("""
assert exercises.check_luminance_weights(solutions.LUMINANCE_WEIGHTS)
assert exercises.check_to_gray(solutions.to_gray)
assert torch.allclose(solutions.to_gray(batch["rgb"]), to_gray(batch["rgb"]), atol=1e-6)
"""),
        md("""
## 6. The real datasets

`course_lib` downloads both of the paper's datasets and verifies them (notebook 11 does it in one cell on Colab):

```bash
python -m course_lib download vcip2020 --root data/vcip2020   # 69 MB, 845 files, each checked by SHA-256
python -m course_lib download epfl --root data/epfl           # nirscene1.zip, 952 MB, resumable
```

or `download("vcip2020", "data/vcip2020")` in Python. The loaders read the folders exactly as they are
distributed; set `NIR_DATA_ROOT` to a folder you have and the cell below shows its first pair.
"""),
        code("""
import os
from pathlib import Path
from course_lib.data import DATASETS

for name, info in DATASETS.items():
    print(f"{name}: {info['title']}\\n    layout: {info['layout']}")
"""),
        code("""
root = os.environ.get("NIR_DATA_ROOT")           # e.g. "data/vcip2020" after the download above; unset here
if root and Path(root).exists():
    real = open_dataset(root, kind="auto", split="train", size=SIZE)
    print(real)
    fig = viz.show_item(real[0])
else:
    print("No real dataset found (download one as above, or set NIR_DATA_ROOT): the course uses the spectral "
          "scenes.")
"""),
        md("""
## Summary

- Every dataset yields `{"nir", "rgb", "name"}` in [-1, 1]; `open_dataset` hides where pairs come from.
- `PairAugment` applies one random scaling/crop/mirror/contrast to both images of a pair.
- The gray domain is BT.601 luminance: `0.299 R + 0.587 G + 0.114 B`, the same map on [0, 1] and [-1, 1].
- `python -m course_lib download` fetches and verifies the real datasets; the loaders read them as
  distributed and name what is missing.

Next: **03**, the attention block inside MPFNet.
"""),
    ]


# ==============================================================================================================
# 03 coordinate attention and RCAB
# ==============================================================================================================
def nb03() -> list:
    return header(
        "03_coordinate_attention_and_rcab", "03 · Coordinate attention and the RCAB (Fig. 2(b))",
        "build coordinate attention step by step with tensors, check it against `course_lib.models."
        "CoordinateAttention`, look at its gates on an image, and wrap it into the residual block RCAB.",
    ) + [
        code(SETUP + """from course_lib.data import SpectralScenes
from course_lib.models import RCAB, CoordinateAttention, SqueezeExcitation, count_parameters"""),
        md("""
## 1. The picture

Squeeze-and-excitation re-weights each channel by one number. **Coordinate attention** (Hou et al. 2021)
keeps position: it averages along each axis separately, so a channel can be switched up in some rows and
columns and down in others (the paper's *"x- and y-axis average pooling"*).
"""),
        code("fig = viz.draw_coordinate_attention()"),
        md("## 2. A feature map to work on"),
        code("""
item = SpectralScenes(size=SIZE, count=1, seed=3)[0]
stem = torch.nn.Conv2d(1, 8, kernel_size=3, padding=1)     # stand-in for the features of an FEB level
with torch.no_grad():
    x = stem(item["nir"][None])
N, C, H, W = x.shape
print("x:", tuple(x.shape))
"""),
        md("## 3. Step by step\n\n**Pool** along W (one value per row) and along H (one value per column):"),
        code("""
z_h = x.mean(dim=3, keepdim=True)      # [N, C, H, 1]
z_w = x.mean(dim=2, keepdim=True)      # [N, C, 1, W]
print("z_h", tuple(z_h.shape), "  z_w", tuple(z_w.shape))
"""),
        md("""
**Shared 1×1 conv** over the H + W pooled positions (to max(8, C/r) channels, then h-swish), **split**, and one
1×1 conv + sigmoid per direction. We borrow the layers of a `CoordinateAttention` so we can compare:
"""),
        code("""
torch.manual_seed(0)
ca = CoordinateAttention(C, reduction=4)
with torch.no_grad():
    y = ca.act(ca.shared(torch.cat([z_h, z_w.transpose(2, 3)], dim=2)))   # [N, hidden, H + W, 1]
    y_h, y_w = torch.split(y, [H, W], dim=2)
    gate_h = torch.sigmoid(ca.conv_h(y_h))                  # [N, C, H, 1]
    gate_w = torch.sigmoid(ca.conv_w(y_w.transpose(2, 3)))  # [N, C, 1, W]
    out = x * gate_h * gate_w                               # broadcast: one gate per row times one per column
print("hidden", tuple(y.shape), " gate_h", tuple(gate_h.shape), " gate_w", tuple(gate_w.shape))
"""),
        code("""
with torch.no_grad():
    reference = ca(x)
print("largest difference to CoordinateAttention:", float((out - reference).abs().max()))
assert torch.allclose(out, reference, atol=1e-6)
assert exercises.check_coordinate_gates(gate_h, gate_w, ca)
"""),
        md("The module we just matched:"),
        code("viz.show_source(CoordinateAttention.forward)"),
        md("""
## 4. The gates on an image

Freshly initialised (weights ~ N(0, 0.02)), every gate is close to sigmoid(0) = 0.5: attention is *learned*. To
see what the gates **can** express, we draw larger random weights (random, not trained!). Each panel is the
map `gate_h ⊗ gate_w` that multiplies one channel, contrast-stretched (its range is in the title), with the
H-gate (cyan, left edge) and the W-gate (green, bottom edge) drawn as profiles.
"""),
        code("""
print(f"untrained gates lie in [{float(gate_h.min()):.3f}, {float(gate_h.max()):.3f}]")
wide = CoordinateAttention(C, reduction=4)
torch.manual_seed(1)
for parameter in wide.parameters():
    torch.nn.init.normal_(parameter, 0.0, 0.5)
with torch.no_grad():
    wide(x)
fig = viz.show_attention_gates(item["nir"], *wide.last_gates, channels=(0, 1, 2, 3))
"""),
        md("""
## 5. Experiment: a gate only sees its row and its column

Change one input pixel at (i, j). The H-gate can only change in row i and the W-gate only in column j: the
attention map changes along a cross. (Squeeze-excitation would change every gate of the channel.)
"""),
        code("""
i, j = H // 3, W // 2
bumped = x.clone()
bumped[..., i, j] += 5.0
with torch.no_grad():
    wide(x)
    gh0, gw0 = wide.last_gates
    wide(bumped)
    gh1, gw1 = wide.last_gates
rows_changed = ((gh1 - gh0).abs().amax(dim=(0, 1, 3)) > 1e-6).nonzero().flatten().tolist()
cols_changed = ((gw1 - gw0).abs().amax(dim=(0, 1, 2)) > 1e-6).nonzero().flatten().tolist()
print(f"bumped pixel ({i}, {j}): H-gate changed in rows {rows_changed}, W-gate in columns {cols_changed}")
assert rows_changed == [i] and cols_changed == [j]
change = (gh1 * gw1 - gh0 * gw0).abs()[0].amax(dim=0)
fig = viz.show_images([change / change.max() * 2 - 1], titles=["|change of gate_h * gate_w|"], size=3)
"""),
        md("## 6. Coordinate attention vs squeeze-excitation"),
        code("""
se = SqueezeExcitation(C, reduction=4)
viz.show_table([
    {"attention": "coordinate (Fig. 2(b))", "parameters": count_parameters(ca),
     "gates per channel": f"H + W = {H + W}"},
    {"attention": "squeeze-excitation", "parameters": count_parameters(se), "gates per channel": "1"},
])
"""),
        md("""
## 7. The RCAB

Fig. 2(b): `RCAB(x) = x + CA(conv3x3(ReLU(conv3x3(x))))`. The residual form means a block can start as (almost)
the identity and learn only a correction, which is what lets MPFNet stack many of them.
"""),
        code("viz.show_source(RCAB)"),
        code("""
rcab = RCAB(C, attention="coordinate", reduction=4)
with torch.no_grad():
    print(tuple(x.shape), "->", tuple(rcab(x).shape))
    torch.nn.init.zeros_(rcab.body[2].weight)    # silence the body's last conv ...
    torch.nn.init.zeros_(rcab.body[2].bias)
    assert torch.equal(rcab(x), x)               # ... and the block is exactly the identity
viz.show_table([{"RCAB attention": kind, "parameters": count_parameters(RCAB(C, kind, reduction=4))}
                for kind in ("coordinate", "se", "none")])
"""),
        md("""
## 8. Exercise: the two pools

Write the first step of coordinate attention: the average along W (keeping H) and the average along H
(keeping W), both keeping four dimensions.
"""),
        code('''
def directional_pools(x):
    """x [N, C, H, W] -> (pool_h [N, C, H, 1], pool_w [N, C, 1, W])."""
    # your code here
    raise NotImplementedError


exercises.check_directional_pools(directional_pools)
'''),
        code("assert exercises.check_directional_pools(solutions.directional_pools)   # for instructors"),
        md("""
## Summary

- Coordinate attention: pool along W and along H, a shared 1×1 conv, one sigmoid gate per direction; the output
  is `x * gate_h * gate_w`.
- A gate at (h, w) depends only on row h and column w: position is kept, unlike squeeze-excitation.
- Untrained gates are ≈ 0.5 everywhere; what they pick out is learned.
- The RCAB wraps the attention in a residual block; the ablation switch `attention` swaps it for SE or nothing.

Next: **04**, the FEB that stacks these blocks into a UNet.
"""),
    ]


# ==============================================================================================================
# 04 FEB
# ==============================================================================================================
def nb04() -> list:
    return header(
        "04_feb", "04 · The feature embedding block (FEB, Fig. 2(c))",
        "follow an image through the FEB UNet level by level (forward hooks), and see what its InstanceNorm "
        "layers do to colour statistics.",
    ) + [
        code(SETUP + """from course_lib.data import SpectralScenes
from course_lib.models import FEB, count_parameters
from course_lib.models.feb import DecoderStep, EncoderStep"""),
        md("""
## 1. FEB = UNet + RCAB

Section II.A: each **encoder** step is LeakyReLU → 4×4 stride-2 conv → RCAB → InstanceNorm; each **decoder**
step the same with a 4×4 stride-2 *transposed* conv, concatenated with the matching encoder output (the UNet
skip); the **bottleneck** is a single 3×3 conv, without RCAB.
"""),
        code("viz.show_source(EncoderStep)"),
        md("## 2. Shapes, level by level (forward hooks)"),
        code("""
feb = FEB(in_channels=1, out_channels=profile.width, width=profile.width, depth=profile.depth)
item = SpectralScenes(size=SIZE, count=1, seed=0)[0]
x = item["nir"][None]
names = ["stem", *[f"encoder.{k}" for k in range(feb.depth)], "bottleneck",
         *[f"decoder.{k}" for k in range(feb.depth)], "head"]
rows = viz.record_shapes(feb, x, names=names)       # one forward pass with hooks on these modules
viz.show_table(rows, columns=["name", "type", "input", "output", "params"])
"""),
        code("""
fig = viz.plot_shape_profile(rows, title=f"FEB (depth {feb.depth}, width {profile.width}): the U")
sizes = [row["output"][-1] for row in rows]
assert sizes[1:feb.depth + 1] == [SIZE // 2 ** (k + 1) for k in range(feb.depth)]   # each encoder step halves
assert rows[-1]["output"] == (1, profile.width, SIZE, SIZE)                       # back to full size
print(f"FEB: {count_parameters(feb):,} parameters")
"""),
        md("Decoder inputs have twice the channels: the UNet skip concatenates the encoder output. The forward pass:"),
        code("viz.show_source(FEB.forward)"),
        md("""
## 3. What InstanceNorm does to colour statistics

InstanceNorm normalises **each image and each channel** by its own spatial mean and standard deviation. On an
RGB image that is the colour cast and the contrast of each channel: after it, all are gone.
"""),
        code("""
rgb = item["rgb"][None]
norm = torch.nn.InstanceNorm2d(3)
fig = viz.plot_channel_stats({"RGB image": rgb, "after InstanceNorm": norm(rgb)})
"""),
        md("""
**Experiment.** Give the image a colour cast (a different gain and offset per channel) and normalise both: the
results are the same image. InstanceNorm makes the features blind to per-image colour statistics, the
"style" (hence its use for colour style diversity, the paper's [22], [23]).
"""),
        code("""
gain, offset = torch.tensor([0.8, 0.9, 0.6]).view(1, 3, 1, 1), torch.tensor([0.2, 0.0, -0.3]).view(1, 3, 1, 1)
cast = rgb * gain + offset                          # stays inside [-1, 1]
difference = float((norm(rgb) - norm(cast)).abs().max())
print(f"largest difference after InstanceNorm: {difference:.2e}")
assert difference < 1e-2
fig = viz.show_images([rgb[0], cast[0], (norm(rgb)[0] / 3).clamp(-1, 1), (norm(cast)[0] / 3).clamp(-1, 1)],
                      titles=["image", "colour cast", "IN(image) / 3", "IN(cast) / 3"])
"""),
        md("""
Inside the FEB every encoder step ends with this norm, so every channel leaves it with mean 0 and a standard
deviation of (at most) 1. Channels whose spread is as small as `eps = 1e-5` come out below 1: in an untrained
network (weights ~ N(0, 0.02)) there are many of them.
"""),
        code("""
with torch.no_grad():
    e = feb.stem(x)
    for k, step in enumerate(feb.encoder):
        e = step(e)
        mean, std = e.mean(dim=(2, 3)), e.std(dim=(2, 3), unbiased=False)
        print(f"encoder.{k} {tuple(e.shape)}: |mean| <= {float(mean.abs().max()):.1e}, "
              f"std per channel in [{float(std.min()):.3f}, {float(std.max()):.3f}]")
        if e.shape[-1] > 1:       # a 1x1 level is left un-normalised (its norm would erase it)
            assert float(mean.abs().max()) < 1e-3 and float(std.max()) < 1 + 1e-3
"""),
        md("""
## 4. Exercise: InstanceNorm by hand

Without affine parameters, with `eps = 1e-5` inside the square root, as `torch.nn.InstanceNorm2d`.
"""),
        code('''
def instance_norm(x, eps=1e-5):
    """x [N, C, H, W] -> each (image, channel) normalised by its own mean and standard deviation."""
    # your code here
    raise NotImplementedError


exercises.check_instance_norm(instance_norm)
'''),
        code("""
assert exercises.check_instance_norm(solutions.instance_norm)          # for instructors
assert torch.allclose(solutions.instance_norm(rgb), norm(rgb), atol=1e-5)
"""),
        md("""
## Summary

- The FEB is a UNet: each encoder step halves the size (4×4 stride-2 conv), each decoder step doubles it and
  concatenates the matching encoder output; RCABs sit inside each step, not in the bottleneck.
- Forward hooks read the shapes of a real forward pass, so the table can never drift from the code.
- InstanceNorm removes each channel's mean and spread per image: colour casts vanish from the features, so
  colour has to be re-created from context.

Next: **05**, three FEBs at three scales, joined by SCCMs: MPFNet.
"""),
    ]


# ==============================================================================================================
# 05 SCCM and MPFNet
# ==============================================================================================================
def nb05() -> list:
    return header(
        "05_sccm_and_mpfnet", "05 · SCCM and the whole MPFNet (Fig. 2(a))",
        "see how MPFNet chains three FEBs over three scales with SCCMs and cross-scale skips, and watch its "
        "predictions at each scale before and after a short training run (gray → RGB with L_mix).",
    ) + [
        code(SETUP + """from course_lib.data import SpectralScenes, to_gray
from course_lib.losses import mix_loss, multiscale_mix_loss, resize_target
from course_lib.models import SCCM, MPFNet, count_parameters"""),
        md("""
## 1. The picture

One row per scale, coarsest first: the 1/4-size image goes through an FEB and an SCCM, which predicts the image
at that scale (supervised by the ground truth) and passes refined features up to the next scale, where they
join that scale's input (**cross-scale skip**).
"""),
        code("fig = viz.draw_mpfnet(scales=3)"),
        md("""
## 2. SCCM

The *supervised colour-consistency module* follows the supervised attention module of MPRNet: predict the image
from the features (plus a skip from the scale's input), then use the prediction to gate the features that go on.
"""),
        code("viz.show_source(SCCM)"),
        code("""
sccm = SCCM(channels=profile.width, image_channels=3, input_channels=1)
features = torch.randn(1, profile.width, SIZE // 4, SIZE // 4)
scale_input = torch.rand(1, 1, SIZE // 4, SIZE // 4) * 2 - 1
with torch.no_grad():
    prediction, refined = sccm(features, scale_input)
print("features", tuple(features.shape), "+ input", tuple(scale_input.shape),
      "-> prediction", tuple(prediction.shape), "+ refined features", tuple(refined.shape))
assert float(prediction.abs().max()) <= 1 and refined.shape == features.shape
"""),
        md("## 3. MPFNet: three scales, coarsest first"),
        code("viz.show_source(MPFNet.forward)"),
        code("""
item = SpectralScenes(size=SIZE, count=1, seed=2)[0]
gray, target = to_gray(item["rgb"])[None].to(device), item["rgb"][None].to(device)
torch.manual_seed(0)
model = MPFNet(1, 3, width=profile.width, depth=profile.depth).to(device)
with torch.no_grad():
    predictions, info = model(gray, return_features=True)
viz.show_table([{"scale": f"1/{2 ** (2 - s)}", "prediction": tuple(p.shape), "features": tuple(f.shape),
                 "FEB input channels": feb.in_channels}
                for s, (p, f, feb) in enumerate(zip(predictions, info["features"], model.febs))])
assert [p.shape[-1] for p in predictions] == [SIZE // 4, SIZE // 2, SIZE]
assert [feb.in_channels for feb in model.febs] == [1, 1 + profile.width, 1 + profile.width]  # cross-scale skips
print(f"{count_parameters(model):,} parameters, {len(info['attention'])} coordinate-attention gates recorded")
"""),
        md("""
The finer FEBs take 1 + width channels: the gray image at that scale **plus** the upsampled refined features of
the coarser scale.

## 4. Experiment: a short training run

Eq. (2): the loss is L_mix summed over the three scales, each prediction against the target resized to its size.
We train on **one** scene for a few steps (a larger learning rate than the paper's 1e-4, because we only have a
few steps) and compare the predictions before and after.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from tqdm.auto import tqdm

steps = 30 if profile.name == "smoke" else 200
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
with torch.no_grad():
    before = [p.cpu() for p in model(gray)]
losses = []
for step in tqdm(range(steps), desc="L_pp on one scene"):
    loss = multiscale_mix_loss(model(gray), target)     # Eq. (2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"L_pp: {losses[0]:.3f} -> {losses[-1]:.3f}")
"""),
        code("""
with torch.no_grad():
    after = [p.cpu() for p in model(gray)]
fig = viz.plot_loss_curves({"L_pp (Eq. 2), one scene": losses})
fig = viz.show_scale_predictions({"untrained": before, f"after {steps} steps": after}, target=target.cpu())
assert losses[-1] < 0.8 * losses[0]
"""),
        md("""
What to look for: the coarse scale gets the large colour regions (sky, ground) first; the finer scales add
edges on top of what the coarser scale passed up. With one scene and a few steps this is memorisation, not
colorization: notebooks 07-09 train on many scenes.

## 5. The ablation switches

`scales` (1, 2, 3) and `sccm` (on, off) are config fields, like `attention` and `norm`; notebook 10 trains them.
"""),
        code("""
viz.show_table([{"scales": s, "sccm": c, "parameters": count_parameters(
                    MPFNet(1, 3, width=profile.width, depth=profile.depth, scales=s, sccm=c))}
                for s in (1, 2, 3) for c in (True, False)])
"""),
        md("""
## 6. Exercise: a target for every scale

Eqs. (2)-(3) compare each prediction with the ground truth *at that scale*. Write the list of targets, in the
order MPFNet returns its predictions.
"""),
        code('''
def scale_targets(target, scales=3):
    """target [N, C, H, W] -> list of `scales` tensors, coarsest first: H/4, H/2, H for 3 scales."""
    # your code here
    raise NotImplementedError


exercises.check_scale_targets(scale_targets)
'''),
        md("*For instructors:* the solution passes, and with it Eq. (2) is exactly `multiscale_mix_loss`."),
        code("""
assert exercises.check_scale_targets(solutions.scale_targets)
with torch.no_grad():
    by_hand = sum(mix_loss(p, t) for p, t in zip(after, solutions.scale_targets(target.cpu(), 3)))
    assert torch.allclose(by_hand, multiscale_mix_loss(after, target.cpu()), atol=1e-6)
"""),
        md("""
## Summary

- MPFNet = one FEB + one SCCM per scale, coarsest first; each finer FEB sees its image and the coarser
  scale's refined features (the cross-scale skip).
- Each scale predicts an image, supervised against the target at that scale (Eqs. 2-3): a deep supervision that
  makes the coarse scales learn the layout of colours first.
- A few steps of L_pp already fit one scene's colours at every scale.

Next: **06**, the loss L_mix and the metrics of Table I, and what each of them misses.
"""),
    ]


# ==============================================================================================================
# 06 losses and metrics
# ==============================================================================================================
def nb06() -> list:
    return header(
        "06_losses_and_metrics", "06 · Losses and metrics: L_mix, L1, SSIM, PSNR, AE, LPIPS",
        "see how L1, SSIM and the paper's L_mix rank different kinds of error of the *same* L1 size, and what each "
        "metric of Table I (PSNR, SSIM, AE, LPIPS) sees and misses.",
    ) + [
        code(SETUP + """from course_lib import losses, metrics
from course_lib.data import SpectralScenes"""),
        md("""
## 1. Four errors of the same size

Blur, a 2-pixel shift, a colour cast and noise, each scaled so that its **L1 distance to the target is the
same** (`viz.equal_l1_distortions`). An L1 loss cannot prefer any of them. Do SSIM and L_mix?
"""),
        code("""
target = SpectralScenes(size=SIZE, count=1, seed=5)[0]["rgb"][None]
distorted = viz.equal_l1_distortions(target)
l1 = {name: float((d - target).abs().mean()) / 2 for name, d in distorted.items()}
print("L1 (on [0, 1] images):", {name: round(v, 4) for name, v in l1.items()})
fig = viz.show_images([target[0]] + [d[0] for d in distorted.values()], titles=["target", *distorted])
"""),
        code("""
table = {name: {"L1": l1[name],
                "1 - SSIM": float(1 - losses.ssim(d, target)),
                "L_mix": float(losses.mix_loss(d, target))} for name, d in distorted.items()}
viz.show_table([{"distortion": name, **values} for name, values in table.items()])
fig = viz.plot_loss_ranking(table)
assert max(l1.values()) - min(l1.values()) < 1e-4                      # L1 cannot tell them apart ...
ssim_order = sorted(table, key=lambda name: table[name]["1 - SSIM"])
print("SSIM, from most to least similar:", ssim_order)
assert table["noise"]["1 - SSIM"] > table["colour cast"]["1 - SSIM"]   # ... SSIM can: structure vs offset
"""),
        md("""
**Reading it.** SSIM compares local means, contrasts and *structure*: noise and shifts break structure and
score badly; a colour cast barely moves SSIM, although it is the error a colorization student notices first.
L1 sees the cast but cannot rank anything. L_mix = 0.84 (1 − MS-SSIM) + 0.16 L1 (Zhao et al., the paper's
[26]) keeps SSIM's sensitivity to structure and L1's to colour and brightness. Its source:
"""),
        code("viz.show_source(losses.mix_loss)"),
        md("""
## 2. The metrics of Table I

Computed on 8-bit images (`metrics.to_uint8` is the one conversion): **PSNR** (dB, data range 255),
**SSIM** (scikit-image), **AE** (mean angle between predicted and true RGB vectors, degrees), **LPIPS** (a deep
perceptual distance).
"""),
        code("""
rows = [{"distortion": name, "PSNR (dB)": metrics.psnr(d, target), "SSIM": metrics.ssim(d, target),
         "AE (deg)": metrics.angular_error(d, target)} for name, d in distorted.items()]
viz.show_table(rows)
"""),
        md("""
**What each misses.** PSNR is a log of the mean squared error: it does not care whether the error is noise or
blur. SSIM hardly sees colour casts. AE measures only the *direction* of the RGB vector: it is blind to
brightness. Darken the image by 30%: the colours (directions) stay, AE stays near 0, PSNR collapses.
"""),
        code("""
dark = (target + 1) * 0.7 - 1                 # the same colours, 30% darker
gray_version = target.mean(dim=1, keepdim=True).expand_as(target)   # the same brightness, no colour
for name, image in [("30% darker", dark), ("desaturated", gray_version)]:
    print(f"{name:12s} PSNR {metrics.psnr(image, target):5.1f} dB   SSIM {metrics.ssim(image, target):.3f}"
          f"   AE {metrics.angular_error(image, target):5.2f} deg")
assert metrics.angular_error(dark, target) < 1.0 and metrics.psnr(dark, target) < 25
assert metrics.angular_error(gray_version, target) > 5 * metrics.angular_error(dark, target)
"""),
        md("""
## 3. LPIPS

LPIPS compares deep AlexNet features; it needs the AlexNet weights, downloaded once into torch hub's cache. Where
there is no network, `LPIPSMetric` says which file to put where, and the course reports LPIPS as *missing*:
never a made-up number.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
try:
    lpips_metric = metrics.LPIPSMetric(net="alex")
except metrics.LPIPSUnavailable as error:
    lpips_metric = None
    print("LPIPS is not available here:", error)
if lpips_metric is not None:
    for name, d in distorted.items():
        print(f"{name:12s} LPIPS {lpips_metric(d, target):.3f}")
"""),
        md("""
## 4. Exercise: PSNR

Write PSNR for two uint8 images H × W × 3 (data range 255). Careful with the arithmetic of `uint8` arrays.
"""),
        code('''
def psnr(prediction, target):
    """PSNR in dB of two uint8 arrays H x W x 3."""
    # your code here
    raise NotImplementedError


exercises.check_psnr(psnr)
'''),
        code("""
assert exercises.check_psnr(solutions.psnr)               # for instructors; it agrees with course_lib.metrics:
a, b = metrics.to_uint8(distorted["noise"][0]), metrics.to_uint8(target[0])
assert abs(solutions.psnr(a, b) - metrics.psnr(a, b)) < 1e-6
"""),
        md("""
## 5. Exercise: L_mix

Write `L_mix = alpha (1 - SSIM) + (1 - alpha) L1` with alpha = 0.84, both terms on images mapped to [0, 1]. Use
`losses.ssim` (it takes [-1, 1] tensors) for the SSIM. It must stay a tensor with a gradient. (The course's
`losses.mix_loss` uses MS-SSIM from 176 px up, where five scales fit; below that it is exactly this.)
"""),
        code('''
def my_mix_loss(prediction, target, alpha=0.84):
    """prediction, target: [N, 3, H, W] in [-1, 1] -> scalar tensor."""
    # your code here
    raise NotImplementedError


exercises.check_mix_loss(my_mix_loss)
'''),
        code("""
assert exercises.check_mix_loss(solutions.mix_loss)        # for instructors; equal to the course's loss below 176 px:
small_prediction, small_target = distorted["blur"][..., :64, :64], target[..., :64, :64]
assert torch.allclose(solutions.mix_loss(small_prediction, small_target), losses.mix_loss(small_prediction, small_target))
"""),
        md("""
## Summary

- Errors of equal L1 can look very different; SSIM ranks them by structure, L1 by size; L_mix combines both.
- PSNR ~ squared error, SSIM ~ structure (weak on colour casts), AE ~ colour direction (blind to brightness),
  LPIPS ~ deep features (needs weights: reported missing, never faked).
- Table I reports all four because each misses something the others catch.

Next: **07**, the first training stage, the CycleGAN translator.
"""),
    ]


BUILDERS = {
    "00_setup": nb00,
    "01_nir_and_ambiguity": nb01,
    "02_data": nb02,
    "03_coordinate_attention_and_rcab": nb03,
    "04_feb": nb04,
    "05_sccm_and_mpfnet": nb05,
    "06_losses_and_metrics": nb06,
}


def build(name: str, builders: dict | None = None) -> nbformat.NotebookNode:
    """The notebook ``name`` from its builder (``builders``: name -> cell list function; default this part's)."""
    builders = BUILDERS if builders is None else builders
    notebook = new_notebook(cells=builders[name]())
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["colab"] = {"provenance": []}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{name[:2]}-{index:02d}"   # stable ids: regenerating gives the same file
    return notebook


def main(argv: list[str], builders: dict | None = None) -> int:
    """Write the notebooks named in ``argv`` (all of ``builders`` when none is named) into notebooks/, or into
    the folder given by ``--out DIR``."""
    builders = BUILDERS if builders is None else builders
    parser = argparse.ArgumentParser(description="Generate course notebooks (no outputs).")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of {list(builders)} (default: all)")
    parser.add_argument("--out", type=Path, default=NOTEBOOKS, help="output folder (default: notebooks/)")
    args = parser.parse_args(argv)
    names = args.names or list(builders)
    unknown = [n for n in names if n not in builders]
    if unknown:
        raise SystemExit(f"unknown notebook(s) {unknown}; expected some of {list(builders)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        notebook = build(name, builders)
        nbformat.validate(notebook)
        path = args.out / f"{name}.ipynb"
        nbformat.write(notebook, path)
        shown = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
        print(f"wrote {shown} ({len(notebook.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
