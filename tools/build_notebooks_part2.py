"""Generate notebooks 07-11 of the course from this file (nbformat), without outputs.

    python tools/build_notebooks_part2.py            # writes notebooks/07_cyclegan_translator.ipynb ... 11_real_data
    python tools/build_notebooks_part2.py --out DIR  # into DIR instead (names select notebooks, as in part 1)

Same conventions as ``tools/build_notebooks_part1.py`` (whose header, Colab link and install cell it reuses, so
the course looks like one course; the repository address comes from ``[project.urls]`` in pyproject.toml, see
part 1's docstring): a story per notebook (goal, picture, code, experiment, exercise, summary),
short code cells that only call ``course_lib``, ``# NBVAL_IGNORE_OUTPUT`` on cells whose output varies, and
what must hold asserted in the cells. Run folders go under ``runs/`` (git-ignored) or Google Drive on Colab.
"""

from __future__ import annotations

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_notebooks_part1 import code, header, main, md  # noqa: E402  (the shared look of every notebook)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

SETUP = """
# NBVAL_IGNORE_OUTPUT
%matplotlib inline
import math
import torch
from course_lib import exercises_part2, solutions_part2, viz, widgets

profile = widgets.notebook_profile()   # "smoke" on a CPU (a few steps), "course" on a GPU; COURSE_PROFILE overrides
USE_DRIVE = True                       # on Colab: keep runs on Google Drive, so a disconnect loses nothing
RUN_DIR = widgets.default_run_dir(use_drive=USE_DRIVE) / f"course-{profile.name}"
device = "cuda" if torch.cuda.is_available() else "cpu"
print("runs go to", RUN_DIR)
"""

RESUME_NOTE = """
**Colab disconnects.** Every stage writes `RUN_DIR/<stage>/checkpoint.pt` (every `checkpoint_every` steps and at
the end) and *resumes from it* when called again: after a disconnect, run the notebook again from the top and
training continues where it stopped; a finished stage loads in seconds. On Colab `RUN_DIR` is on your Google
Drive (`default_run_dir(use_drive=True)`), so the checkpoints outlive the machine. Below we simulate a disconnect
with a callback that stops the stage after half its steps (`widgets.stop_after`), then resume.
"""


def resume_cells(stage: str, steps_field: str, call: str) -> list:
    """Stop a stage half-way (a simulated disconnect), then resume it; assert the resumed run continues right
    after the saved step. Works whether the stage is fresh, half-done or finished (notebooks re-run)."""
    return [
        md(RESUME_NOTE),
        code(f"""
# NBVAL_IGNORE_OUTPUT
from course_lib.train import TrainingInterrupted, load_checkpoint

saved_step = None
try:
    {call.format(extra=f"callback=widgets.stop_after(max(1, profile.{steps_field} // 2))")}
    print("nothing to do: the stage was already trained in", RUN_DIR / "{stage}")
except TrainingInterrupted as stop:               # what a disconnect leaves behind: a checkpoint
    saved_step = load_checkpoint(stop.checkpoint)["step"]
    print(f"disconnected after step {{stop.step}}; the checkpoint holds step {{saved_step}}")
    assert saved_step == stop.step
"""),
        code(f"""
# NBVAL_IGNORE_OUTPUT
seen = []                                          # the steps the resumed run trains
result = {call.format(extra="callback=lambda step, losses: seen.append(step)")}
if saved_step is not None:
    assert seen[0] == saved_step + 1, (seen, saved_step)   # resumed right after the saved step
assert result.step == profile.{steps_field}
assert (RUN_DIR / "{stage}" / "checkpoint.pt").is_file()
"""),
        code(f"""
from course_lib.train import read_losses

log = read_losses(RUN_DIR / "{stage}" / "losses.csv")
assert log["step"] == [float(s) for s in range(1, profile.{steps_field} + 1)]    # one row per step, no gaps
assert all(math.isfinite(v) for column in log.values() for v in column)          # finite losses
print("logged:", [k for k in log if k != "step"])
"""),
    ]


# ==============================================================================================================
# 07 CycleGAN translator
# ==============================================================================================================
def nb07() -> list:
    return header(
        "07_cyclegan_translator", "07 · Stage 1: the CycleGAN translator NIR ↔ gray (Eq. (1))",
        "train the domain translation module of Fig. 1 (green): G_N2G turns NIR images into plausible gray "
        "images, G_G2N goes back, two PatchGAN discriminators judge them; watch the translated grays next to "
        "the true grays as training goes, and switch the cycle and identity terms off to see what they do.",
    ) + [
        code(SETUP + """from course_lib.data import to_gray
from course_lib.train import test_data, translate"""),
        md("""
## 1. The picture

The first stage never sees colour. It learns to translate between two *image domains*: NIR images X_N and
grayscale images X_G (the luminance of RGB photos). Grayscale is the bridge: F_G (notebook 08) already knows how
to colour it.
"""),
        code("fig = viz.draw_pipeline()"),
        md(r"""
## 2. The objective, Eq. (1)

$$\mathcal{L}_{tran} = \mathcal{L}^{img}_{GAN}(X_N, X_G, D^{img}_N, G_{G2N}) + \mathcal{L}^{img}_{GAN}(X_N, X_G, D^{img}_G, G_{N2G}) + \lambda_1 \mathcal{L}_{cyc} + \lambda_2 \mathcal{L}_{idt}$$

- **GAN terms** (least squares, as CycleGAN): D_G^img learns to tell real grays from G_N2G's translations,
  and G_N2G learns to fool it; the same for D_N^img and G_G2N.
- **cycle** L_cyc = |G_G2N(G_N2G(x_n)) − x_n| + |G_N2G(G_G2N(x_g)) − x_g|: a translation must keep enough of the
  image to go back. Without it, G_N2G could output *any* plausible gray image.
- **identity** L_idt = |G_N2G(x_g) − x_g| + |G_G2N(x_n) − x_n|: a gray image is already gray, leave it alone.
  It keeps the translator from inverting or shifting tones for no reason.
- The paper sets λ₁ = λ₂ = 1 (CycleGAN uses 10 and 0.5); `LossWeights` defaults to the paper.

Both generators are MPFNets with one input and one output channel; the losses use their finest output. The
whole stage, from the package (the code that runs):
"""),
        code("viz.show_source(translate)"),
        md("""
## 3. Train it

`translate(profile, RUN_DIR)` trains for `profile.translate_steps` steps with a progress bar and writes
`RUN_DIR/translate/{checkpoint.pt, losses.csv, samples/}`. In the `smoke` profile this is a handful of steps on
tiny images: it shows the machinery, not a good translator; on a GPU (`course` profile) it is 1500 steps at
256 px.
"""),
        *resume_cells("translate", "translate_steps", "translate(profile, RUN_DIR, {extra})"),
        md("""
## 4. The translated grays as training goes

While it trains, the stage saves a sample grid every `sample_every` steps: NIR | G_N2G(NIR) | the true gray of
the same scene | G_G2N(gray). Early on, G_N2G's output is noise around the input; a trained translator gives a
gray image whose *tones* follow the gray of the RGB photo (vegetation dark-ish, sky bright) although NIR sees
vegetation bright and sky dark.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
fig = widgets.show_stage_samples(RUN_DIR / "translate", max_steps=3)
"""),
        md("The same networks on held-out scenes they never saw, and the two cycles:"),
        code("""
# NBVAL_IGNORE_OUTPUT
test = test_data(None, profile)                       # held-out spectral scenes (another seed)
batch = [test[i] for i in range(3)]
nir = torch.stack([b["nir"] for b in batch]).to(device)
gray = to_gray(torch.stack([b["rgb"] for b in batch])).to(device)
g_n2g, g_g2n = result.models["g_n2g"].to(device), result.models["g_g2n"].to(device)
with torch.no_grad():
    translated = g_n2g(nir)[-1]                       # finest scale
    cycled = g_g2n(translated)[-1]
images, titles = [], []
for i in range(len(batch)):
    images += [nir[i], translated[i], gray[i], cycled[i]]
    titles += ["NIR", "G_N2G(NIR)", "true gray", "G_G2N(G_N2G(NIR))"] if i == 0 else [""] * 4
fig = viz.show_images([im.cpu() for im in images], titles=titles, ncols=4)
assert translated.shape == gray.shape and float(translated.abs().max()) <= 1
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
fig = viz.plot_loss_curves(RUN_DIR / "translate" / "losses.csv", keys=["gan", "cycle", "identity"])
"""),
        md("""
## 5. Experiment: switch the cycle and the identity terms off

Three short runs with the same data, seed and steps: the paper's weights, λ_cyc = 0, and λ_idt = 0. For each we
measure on the held-out scenes

- **cycle error** |G_G2N(G_N2G(x_n)) − x_n|: can the NIR image be recovered from its translation?
- **identity error** |G_N2G(x_g) − x_g|: does G_N2G leave a gray image alone?
- **gray error** |G_N2G(x_n) − gray(x_rgb)|: how close the translation is to the true gray of the same scene
  (our data has pairs; the CycleGAN never uses them).

Without the cycle term nothing ties the translation to its input: with enough training, G_N2G can produce
plausible grays of a *different* scene. Without the identity term the translator may shift tones. In the
`smoke` profile the runs are too short for these effects to show reliably; on a GPU they do.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from course_lib.losses import LossWeights
from course_lib.train import TranslateConfig

# the same short schedule for the three runs (smoke: 2 steps of 2 images; on a GPU: 300 steps)
exp_profile = (profile.replace(translate_steps=2, batch_size=2) if profile.name == "smoke"
               else profile.replace(translate_steps=300))
variants = {"paper (λ_cyc = λ_idt = 1)": LossWeights(),
            "no cycle (λ_cyc = 0)": LossWeights(lambda_cyc=0.0),
            "no identity (λ_idt = 0)": LossWeights(lambda_idt=0.0)}
translators = {}
for label, weights in variants.items():
    folder = RUN_DIR.parent / (f"{RUN_DIR.name}-translate-cyc{weights.lambda_cyc:g}-idt{weights.lambda_idt:g}"
                               f"-{exp_profile.translate_steps}x{exp_profile.batch_size}")
    translators[label] = translate(exp_profile, folder, config=TranslateConfig(weights=weights)).models
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
rows, images, titles = [], [nir[0]], ["NIR"]
for label, nets in translators.items():
    a, b = nets["g_n2g"].to(device), nets["g_g2n"].to(device)
    with torch.no_grad():
        t = a(nir)[-1]
        rows.append({"run": label,
                     "cycle error": float((b(t)[-1] - nir).abs().mean()),
                     "identity error": float((a(gray)[-1] - gray).abs().mean()),
                     "gray error": float((t - gray).abs().mean())})
    images.append(t[0])
    titles.append(label)
images.append(gray[0])
titles.append("true gray")
viz.show_table(rows)
fig = viz.show_images([im.cpu() for im in images], titles=titles, ncols=len(images))
assert all(math.isfinite(v) for r in rows for k, v in r.items() if k != "run")
"""),
        md("""
## 6. Exercise: the discriminator's LSGAN loss

A PatchGAN returns a *map* of raw scores, one per image patch (no sigmoid). In the least-squares GAN the
discriminator pushes the scores of real images towards 1 and those of translated (fake) images towards 0,
averaging over batch and patches; CycleGAN halves the sum so the discriminator learns at half the speed of the
generators. Write it; the check tells you what is wrong.
"""),
        code('''
def lsgan_discriminator_loss(scores_real, scores_fake):
    """scores_*: raw PatchGAN outputs (N, 1, h, w). Returns the discriminator's scalar loss."""
    # your code here (one line)
    raise NotImplementedError


exercises_part2.check_lsgan_discriminator_loss(lsgan_discriminator_loss)
'''),
        md("*For instructors:* the reference solution, and that it is what stage 1 computes with "
           "`course_lib.losses.lsgan_loss`:"),
        code("""
from course_lib.losses import lsgan_loss

assert exercises_part2.check_lsgan_discriminator_loss(solutions_part2.lsgan_discriminator_loss)
real_scores, fake_scores = torch.randn(2, 1, 6, 6), torch.randn(2, 1, 6, 6)
assert torch.allclose(solutions_part2.lsgan_discriminator_loss(real_scores, fake_scores),
                      0.5 * (lsgan_loss(real_scores, True) + lsgan_loss(fake_scores, False)))
"""),
        md("""
## Real NIR photos: the shipped translator

The run above is the procedure at a size a CPU trains in a minute; its gray is still close to flat. `course_lib`
ships weights trained on the 372 VCIP 2020 training pairs (`course_lib.pretrained`, checked by SHA-256 when
loaded; `python -m course_lib colorize ... --pretrained vcip2020` uses them too). Here is their translator
G_N2G on three real validation photos that neither the training nor the test split contains, next to the
*true* gray of each RGB photo, with the PSNR and correlation of the two. Compare with the NIR image itself:
vegetation is bright in NIR but dark in the gray, sky the other way round.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from course_lib import showcase

fig, gray_stats = showcase.translator_figure("vcip2020")
viz.show_table(gray_stats)
"""),
        md("""
**Read it honestly.** The shipped translator (a CPU budget: 300 translate + 500 fine-tuning steps) mostly darkens
the NIR image towards the gray's overall level; where NIR and gray disagree locally (bright NIR foliage, dark in
the photo) it does not yet swap them. On the 18 validation pairs its gray correlates 0.45 with the true gray,
the NIR image itself 0.32 (`benchmarks/vcip_cpu.py`). This is the progressive route's bottleneck: the next
notebooks show that the colouriser does well when it is given the true gray.
"""),
        md("""
## Summary

- Stage 1 is a CycleGAN between NIR and gray (Eq. (1)): two MPFNet generators, two PatchGAN discriminators,
  least-squares GAN terms, cycle and identity terms with the paper's λ₁ = λ₂ = 1.
- The stage writes a checkpoint, a loss log and sample grids, and resumes after a disconnect.
- The cycle term ties a translation to its input; the identity term keeps gray images gray.
- On real photos a CPU-trained translator learns the overall tone, not yet which regions swap brightness
  between NIR and visible light; that is where the progressive route loses most.

Next: **08**, the colorizer F_G learns gray → RGB.
"""),
    ]


# ==============================================================================================================
# 08 colorizer pre-training
# ==============================================================================================================
def nb08() -> list:
    return header(
        "08_colorizer_pretraining", "08 · Stage 2: pre-training the colorizer F_G on gray images (Eq. (2))",
        "train F_G (Fig. 1, red) to colour grayscale images, the easier half of the problem: look at its "
        "predictions at the three scales, at the loss curves of `losses.csv`, and at what happens when F_G is "
        "given an NIR image instead of a gray one.",
    ) + [
        code(SETUP + """from course_lib.data import to_gray
from course_lib.losses import mix_loss, multiscale_mix_loss, resize_target
from course_lib.metrics import psnr
from course_lib.train import pretrain, test_data"""),
        md(r"""
## 1. The picture: why gray first

Grayscale colorization only has to guess *chrominance*: the luminance is given. NIR → RGB has to guess both,
because the NIR band does not overlap the visible one (the mapping ambiguity of notebook 01). So the paper
first trains the colorizer F_G on gray versions of the RGB training images, where input and target agree on
brightness by construction:

$$\mathcal{L}_{pp} = \sum_{s=1}^{3} L_{mix}\big(Y^s_G, F^s_G(X_G)\big) \qquad (2)$$

F_G is an MPFNet (1 → 3 channels) with three outputs, coarsest first; each is compared with the RGB target
resized to its scale by L_mix (notebook 06).
"""),
        code("""
test = test_data(None, profile)
batch = [test[i] for i in range(3)]
rgb = torch.stack([b["rgb"] for b in batch]).to(device)
nir = torch.stack([b["nir"] for b in batch]).to(device)
gray = to_gray(rgb)
fig = viz.show_images([gray[0].cpu(), rgb[0].cpu(), nir[0].cpu()],
                      titles=["F_G's input: gray", "its target: RGB", "(not used here: NIR)"])
"""),
        md("The stage, from the package:"),
        code("viz.show_source(pretrain)"),
        md("## 2. Train it"),
        *resume_cells("pretrain", "pretrain_steps", "pretrain(profile, RUN_DIR, {extra})"),
        md("""
## 3. Loss curves

`losses.csv` has one row per step: here the single term `mix`, L_pp of Eq. (2). (In the `smoke` profile the
curve is a few points long.)
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
fig = viz.plot_loss_curves(RUN_DIR / "pretrain" / "losses.csv", smooth=1)
"""),
        md("""
## 4. Predictions at the three scales

F_G predicts the image at 1/4, 1/2 and full size. Each prediction has its own L_mix term against the target at
that size; the coarse scale carries the large colour regions, the finer ones add detail on top of the features
the coarser scale passed up (SCCM, notebook 05).
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
f_g = result.models["f_g"].to(device)
with torch.no_grad():
    predictions = f_g(gray)
terms = [float(mix_loss(p, resize_target(rgb, tuple(p.shape[-2:])))) for p in predictions]
viz.show_table([{"scale": f"{p.shape[-2]}×{p.shape[-1]}", "L_mix": t} for p, t in zip(predictions, terms)])
fig = viz.show_scale_predictions({"F_G(gray)": [p.cpu() for p in predictions]}, target=rgb.cpu())
assert [p.shape[-1] for p in predictions] == [profile.image_size // 4, profile.image_size // 2, profile.image_size]
assert abs(sum(terms) - float(multiscale_mix_loss(predictions, rgb))) < 1e-4      # Eq. (2) is their sum
"""),
        md("""
## 5. Experiment: give F_G an NIR image

F_G has only seen gray images. What if we skip the translator and feed it NIR directly? NIR images have the
wrong tones (vegetation bright, sky and water dark), so F_G colours the wrong brightness; this is the domain
gap that stage 1 (G_N2G) and stage 3 (fine-tuning) close.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
with torch.no_grad():
    from_gray, from_nir = f_g(gray)[-1], f_g(nir)[-1]
rows = [{"input": "gray (what F_G was trained on)", "PSNR (dB)": psnr(from_gray, rgb)},
        {"input": "NIR (the domain gap)", "PSNR (dB)": psnr(from_nir, rgb)}]
viz.show_table(rows)
fig = viz.show_images([gray[0].cpu(), from_gray[0].cpu(), nir[0].cpu(), from_nir[0].cpu(), rgb[0].cpu()],
                      titles=["gray", "F_G(gray)", "NIR", "F_G(NIR)", "ground truth"])
assert all(math.isfinite(r["PSNR (dB)"]) for r in rows)
"""),
        md("""
With a trained F_G (the `course` profile) F_G(gray) is clearly better than F_G(NIR). In the `smoke` profile
F_G has trained for a handful of steps and both are poor.

Here is a trained F_G: the colouriser of the weights shipped with `course_lib` (trained on the 372 VCIP 2020
training pairs, then fine-tuned in stage 3), on three real validation photos. Given the *true* gray it gets the
brightness right and only has to add colour; given the NIR image it inherits NIR's tones:
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from course_lib import showcase

fig, rows = showcase.colouriser_figure("vcip2020")
viz.show_table(rows)
"""),
        md("""
Given the true gray, F_G scores about 20-23 dB on these photos; given NIR, 8-10 dB. Look at the colours too:
F_G(gray) is the gray with a cool tint, not the green grass and blue sky of the photo. On this data the
brightness carries most of the PSNR (the true gray alone, copied to R, G and B, scores 25.7 dB on the validation
pairs), and a CPU budget teaches F_G the brightness but hardly any colour.
"""),
        md("""
## 6. Exercise: L_pp, Eq. (2)

Write the pre-training loss: for each of F_G's predictions (coarsest first), L_mix between the prediction and
the target downscaled to the prediction's size by **area averaging** (`F.interpolate(..., mode="area")`), summed
over the scales. Use `mix_loss` from `course_lib.losses` (notebook 06).
"""),
        code('''
import torch.nn.functional as F


def pretrain_loss(predictions, target):
    """predictions: list of (N, 3, h_s, w_s), coarsest first; target: (N, 3, H, W). Returns L_pp (a scalar)."""
    # your code here (a loop over the predictions)
    raise NotImplementedError


exercises_part2.check_pretrain_loss(pretrain_loss)
'''),
        md("*For instructors:*"),
        code("""
assert exercises_part2.check_pretrain_loss(solutions_part2.pretrain_loss)
assert torch.allclose(solutions_part2.pretrain_loss(predictions, rgb), multiscale_mix_loss(predictions, rgb))
"""),
        md("""
## Summary

- Stage 2 trains F_G on (gray, RGB) pairs with L_pp (Eq. (2)): L_mix at each of the three scales, summed.
- Its log (`losses.csv`) and checkpoint live in `RUN_DIR/pretrain`; a second call loads instead of training.
- F_G colours gray images; fed NIR directly it colours the wrong brightness: the gap stages 1 and 3 close.

- On real photos a trained F_G is accurate when the gray is right (about 20-23 dB) and useless on NIR (8-10 dB);
  at a CPU budget it adds little colour.

Next: **09**, the two halves trained together: NIR → G_N2G → F_G → RGB.
"""),
    ]


# ==============================================================================================================
# 09 progressive fine-tuning
# ==============================================================================================================
def nb09() -> list:
    return header(
        "09_progressive_finetuning", "09 · Stage 3: progressive fine-tuning (Eqs. (3)-(5))",
        "fine-tune the translator and the colorizer together (Fig. 1, blue) with the multi-scale loss L_pf, "
        "the CycleGAN loss L_tran and the feature discriminator D_G^feat, then compare the progressive route "
        "with the same network trained directly NIR → RGB, on the same scenes, side by side.",
    ) + [
        code(SETUP + """from course_lib.data import to_gray
from course_lib.metrics import evaluate, format_table
from course_lib.models import FeatureDiscriminator
from course_lib.train import FinetuneConfig, finetune, pretrain, test_data, train_direct, translate
from course_lib.train.stage3_finetune import feature_disc_input"""),
        md(r"""
## 1. The picture and the objective

NIR → G_N2G → X_N2G (gray-like) → F_G → RGB, starting from stage 1's translator and stage 2's colorizer:

$$\mathcal{L}_{pf} = \sum_{s=1}^{3} L_{mix}\big(Y^s_N, F^s_G(X_{N2G})\big) \qquad (3)$$

$$\mathcal{L}^{feat}_{GAN} = \mathbb{E}_{x_n}\big[D^{feat}_G(F_G(G_{N2G}(x_n)))^2\big] + \mathbb{E}_{x_g}\big[(D^{feat}_G(F_G(x_g)) - 1)^2\big] \qquad (4)$$

$$\mathcal{L} = \mathcal{L}_{pf} + \lambda_1 \mathcal{L}_{tran} + \lambda_2 \mathcal{L}^{feat}_{GAN} \qquad (5)$$

Eq. (4) is printed without the squares, which is not a usable loss (unbounded below); like every GAN term of the
course it is implemented in least-squares form. L_pf supervises the colour; L_tran keeps the translator a
CycleGAN; D_G^feat aligns what F_G makes of translated NIR with what it makes of real grays, so F_G keeps
working in the domain it was pre-trained on.
"""),
        code("fig = viz.draw_pipeline()"),
        md("""
Fine-tuning starts from the two earlier stages. They resume or load from `RUN_DIR` (trained in notebooks 07 and
08; run alone, this notebook trains them first):
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
translate(profile, RUN_DIR)
pretrain(profile, RUN_DIR);
"""),
        md("""
## 2. The feature discriminator D_G^feat

What does D_G^feat look at? `FinetuneConfig.feat_source` chooses: `"outputs"` (default) = F_G's three
predictions resized to full size and concatenated (3 × 3 = 9 channels), or `"features"` = F_G's finest feature
maps. It is a small PatchGAN (`FeatureDiscriminator`) returning a map of raw scores:
"""),
        code("viz.show_source(feature_disc_input)"),
        code("""
test = test_data(None, profile)
batch = [test[i] for i in range(3)]
nir = torch.stack([b["nir"] for b in batch]).to(device)
rgb = torch.stack([b["rgb"] for b in batch]).to(device)
gray = to_gray(rgb)
config = FinetuneConfig()
from course_lib.train import load_stage

f_g = load_stage(RUN_DIR, "pretrain", device=device)["f_g"]
with torch.no_grad():
    predictions = f_g(gray)
d_input = feature_disc_input(predictions, None, config.feat_source)
d_feat = FeatureDiscriminator(d_input.shape[1], width=2 * profile.width, n_layers=config.feat_disc_layers).to(device)
with torch.no_grad():
    scores = d_feat(d_input)
print(f"feat_source={config.feat_source!r}: D_G^feat input {tuple(d_input.shape)} -> score map {tuple(scores.shape)}")
assert d_input.shape[1] == 3 * len(predictions) and scores.shape[1] == 1
"""),
        md("The whole stage, from the package:"),
        code("viz.show_source(finetune)"),
        md("## 3. Fine-tune"),
        *resume_cells("finetune", "finetune_steps", "finetune(profile, RUN_DIR, {extra})"),
        code("""
# NBVAL_IGNORE_OUTPUT
fig = viz.plot_loss_curves(RUN_DIR / "finetune" / "losses.csv", keys=["pf", "tran", "feat", "d_feat"])
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
fig = widgets.show_stage_samples(RUN_DIR / "finetune", max_steps=2)
"""),
        md("""
## 4. Progressive vs. direct, on the same scenes

The claim behind the paper (Section II.A): direct NIR → RGB translation in a single path is unstable; going
through gray is better. To test it fairly, `train_direct` trains **the same MPFNet** (1 → 3 channels) NIR → RGB
with the same multi-scale L_mix, data, augmentation, optimizer and seed, for `profile.direct_steps` steps (as
many updates as F_G gets in stages 2 + 3).
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
direct = train_direct(profile, RUN_DIR)
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
progressive = result.colorizer.to(device)
direct_colorizer = direct.colorizer.to(device)
evaluations = {"progressive (MPFNet)": evaluate(progressive, test, lpips=False, method="progressive (MPFNet)"),
               "direct (same network)": evaluate(direct_colorizer, test, lpips=False, method="direct (same network)")}
table = format_table(evaluations)
print(table)
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
assert "progressive (MPFNet)" in table and "direct (same network)" in table
assert all(math.isfinite(e.summary["psnr"][0]) for e in evaluations.values())
with torch.no_grad():
    rgb_progressive, x_n2g = progressive(nir, return_gray=True)
    rgb_direct = direct_colorizer(nir)
images, titles = [], []
for i in range(len(batch)):
    images += [nir[i], x_n2g[i], rgb_progressive[i], rgb_direct[i], rgb[i]]
    titles += ["NIR", "X_N2G (gray)", "progressive", "direct", "ground truth"] if i == 0 else [""] * 5
fig = viz.show_images([im.cpu() for im in images], titles=titles, ncols=5)
"""),
        md("""
What to look for (with the `course` profile): the direct route tends towards the statistical average, muddy
and monotonous colours (the paper's mapping ambiguity), while the progressive route's colours follow the
gray-level structure that X_N2G carries. In the `smoke` profile both are barely trained and the numbers mean
nothing; notebook 10 shows how to measure the difference properly.

## 5. Exercise: both sides of L_GAN^feat

Write the two losses of Eq. (4) in least-squares form: the generators' side (F_G and G_N2G want D_G^feat to
judge their output *real*) and D_G^feat's side (real = F_G(x_g) towards 1, fake = F_G(G_N2G(x_n)) towards 0,
halved). One detail matters: D_G^feat's update must not train the generators.
"""),
        code('''
def feature_gan_losses(d_feat, fake, real):
    """d_feat: the critic; fake: D_G^feat input from translated NIR; real: from real grays.
    Returns (loss_generator, loss_discriminator)."""
    # your code here (two lines)
    raise NotImplementedError


exercises_part2.check_feature_gan_losses(feature_gan_losses)
'''),
        md("*For instructors:*"),
        code("assert exercises_part2.check_feature_gan_losses(solutions_part2.feature_gan_losses)"),
        md("""
## Real NIR photos: progressive beside direct, with the shipped weights

The same two routes, trained on the 372 VCIP 2020 training pairs (the weights shipped with `course_lib`), on
three real validation photos, beside the mean training colour painted everywhere (a predictor that learns
nothing) and the ground truth:
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from course_lib import showcase

fig = showcase.routes_figure("vcip2020")
"""),
        md("""
**Read it honestly.** Neither route paints plausible colour yet: the progressive output is nearly gray, the
direct one has a faint olive tint on vegetation and a gray sky. These weights were trained for about an hour on
one CPU core; on the 18 validation pairs they score 14.00 dB (progressive) and 14.26 dB (direct) against
12.67 dB for the mean colour and 22.14 dB for the paper's MPFNet. At this budget the direct route wins.
"""),
        md("""
## Summary

- Stage 3 trains NIR → G_N2G → F_G → RGB with L = L_pf + λ₁ L_tran + λ₂ L_GAN^feat (Eqs. (3)-(5)), starting from
  stages 1 and 2; the feature discriminator sees F_G's multi-scale outputs (or its features).
- `result.colorizer` is the paper's NIR → RGB colorizer; `train_direct` trains the same network directly, the
  baseline the paper argues against.
- Discriminator losses detach the generators' output.
- At a CPU budget on real photos the direct route beats the progressive one (14.26 against 14.00 dB for the shipped
  weights), and neither is yet a convincing colourisation.

Next: **10**, Table I, and the ablation panel: which part of MPFNet matters?
"""),
    ]


# ==============================================================================================================
# 10 evaluation and ablations
# ==============================================================================================================
def nb10() -> list:
    return header(
        "10_evaluation_and_ablations", "10 · Evaluation (Table I) and the ablation panel",
        "evaluate the trained colorizers as the paper's Table I does (PSNR, SSIM, AE, LPIPS), then switch parts of "
        "MPFNet off in an interactive panel (attention, InstanceNorm, SCCM, scales, route, feature "
        "discriminator), train short runs, and see the images and metrics change next to the full model.",
    ) + [
        code(SETUP + """from course_lib import ablation
from course_lib.metrics import backbone_path, evaluate, format_table
from course_lib.train import run_all, test_data"""),
        md("""
## 1. Table I

The paper reports four metrics on the 28 VCIP 2020 test images, each catching something the others miss
(notebook 06): PSNR (↑, squared error), SSIM (↑, structure), AE (↓, the angle between predicted and true RGB
vectors: colour direction), LPIPS (↓, deep-feature distance). The paper's rows:
"""),
        code("""
from IPython.display import Markdown, display

display(Markdown(widgets.compare_with_paper({}, "vcip2020")))
"""),
        md("""
## 2. Evaluate our colorizers

`run_all` trains (or loads, from `RUN_DIR`: notebooks 07-09 trained them) the three stages and the direct
route. `evaluate` colorizes every held-out scene and scores it; LPIPS needs AlexNet weights and is reported
as n/a when they are missing (never faked).
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
results = run_all(profile, RUN_DIR)
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
test = test_data(None, profile)
lpips = "auto" if backbone_path("alex").is_file() else False
colorizers = {"MPFNet (progressive)": results["finetune"].colorizer,
              "MPFNet (direct)": results["direct"].colorizer}
evaluations = {name: evaluate(c, test, out_dir=RUN_DIR / "evaluation" / name.split()[1].strip("()"),
                              lpips=lpips, method=name)
               for name, c in colorizers.items()}
table = format_table(evaluations)
display(Markdown(table))
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
lines = [line for line in table.splitlines() if line.startswith("| MPFNet")]
assert len(lines) == 2 and "progressive" in lines[0] and "direct" in lines[1]       # the expected rows
assert (RUN_DIR / "evaluation" / "progressive" / "table.md").is_file()
assert all(len(e.rows) == len(test) for e in evaluations.values())
viz.show_table([{"image": r["name"], "PSNR progressive": r["psnr"], "PSNR direct": d["psnr"]}
                for r, d in zip(evaluations["MPFNet (progressive)"].rows, evaluations["MPFNet (direct)"].rows)])
"""),
        md("""
Per image, the two routes can swap places: with few test images, a mean difference smaller than the spread
(the ± in the table) says little. Rendered scenes are not VCIP 2020 either: notebook 11 evaluates on real data.

## 3. The ablation panel

Which parts of MPFNet matter? Each switch below changes one part of Fig. 2 (or the route of Fig. 1) in every
MPFNet of the route:
"""),
        code("display(Markdown(ablation.describe_switches()))"),
        md("""
Press **Train / load**: the panel trains a short run of that configuration (a progress bar per stage) into
`RUN_DIR/../ablation`, evaluates it, and shows its images and metrics next to the full model's (trained once,
the first time). Runs are cached by configuration: the same switches load instead of training again, so going
back to an earlier setting is instant. Tick *retrain* to train again.

Where no widget can render (a plain terminal), `widgets.ablation_panel()` runs the default configuration and
prints the result instead.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
ABLATION_DIR = RUN_DIR.parent / f"ablation-{profile.name}"
ablation_profile = (ablation.short_profile(profile, steps=2).replace(batch_size=2) if profile.name == "smoke"
                    else ablation.short_profile(profile))    # smoke: 2 steps of 2 images per stage
panel = widgets.ablation_panel(profile=ablation_profile, root=ABLATION_DIR)
panel
"""),
        md("""
The panel calls one function, `course_lib.ablation.run_ablation`, which you can also call directly (that is
what runs when this notebook is tested). Here: coordinate attention switched off.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
result = ablation.run_ablation(attention="none", profile=ablation_profile, root=ABLATION_DIR)
print(result)
fig = result.figure()
"""),
        code("""
assert result.switches.attention == "none" and result.full is not None
assert list(result.evaluations()) == ["attention=none", "full model (MPFNet, progressive)"]
assert set(result.images) == {"NIR", "attention=none", "full model", "ground truth"}
assert all(math.isfinite(v) for k, v in result.metrics.items() if k != "lpips")
again = ablation.run_ablation(attention="none", profile=ablation_profile, root=ABLATION_DIR, verbose=False)
assert again.cached and again.full.cached                  # the same switches load instead of retraining
assert abs(again.metrics["psnr"] - result.metrics["psnr"]) < 1e-6
"""),
        md("""
## 4. Exercise: better or worse?

Table I mixes metrics where higher is better (PSNR ↑, SSIM ↑) with errors where lower is better (AE ↓,
LPIPS ↓). Write `improvement(metric, value, reference)`: how much better `value` is than `reference`, positive
meaning better, for `metric` in "psnr", "ssim", "ae", "lpips" (raise ValueError for any other name).
"""),
        code('''
def improvement(metric, value, reference):
    """Positive when `value` is better than `reference` for this metric of Table I."""
    # your code here
    raise NotImplementedError


exercises_part2.check_improvement(improvement)
'''),
        md("*For instructors:* the solution, used to read the ablation against the full model:"),
        code("""
# NBVAL_IGNORE_OUTPUT
assert exercises_part2.check_improvement(solutions_part2.improvement)
import math as _math
viz.show_table([{"metric": m, "attention=none vs full model": solutions_part2.improvement(
                    m, result.metrics[m], result.full.metrics[m])}
                for m in ("psnr", "ssim", "ae", "lpips") if not _math.isnan(result.metrics[m])])
"""),
        md("""
## 5. How to run an ablation that means something

- Short runs on rendered scenes show the *mechanics*; a conclusion needs the `course` profile (or longer),
  the real test set, and several seeds (`run_ablation(..., seed=1)`), comparing the difference with the spread.
- Change one switch at a time, and keep the budget equal: the direct route gets as many colorizer updates as
  the progressive one (`profile.direct_steps`).
- `benchmarks/ablation.py` runs the full table of configurations over several seeds from the command line.

"""),
        md("""
## 6. Table I on real photos, with the shipped weights

Both routes of the weights shipped with `course_lib` (trained on the 372 VCIP 2020 training pairs) scored on the
three real sample photos, beside the two predictors that learn nothing and the paper's Table I; below it, the
scores the weights had on all 18 validation pairs when they were trained (`tools/ship_weights.py`). Read every
row against the mean-colour row: a route at its level has not learned colour.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from IPython.display import Markdown, display
from course_lib import showcase

display(Markdown(showcase.scores_table("vcip2020")))
"""),
        md("""
Three photos are a small sample, so trust the 18-pair rows more. Both routes beat the mean colour by 1.3-1.6 dB
there and stay about 8 dB below the paper's MPFNet.
"""),
        md("""
## Summary

- `course_lib.metrics.evaluate` + `format_table` give Table I's layout (mean ± std over images); LPIPS is
  reported missing rather than faked when its weights are absent.
- `course_lib.ablation.run_ablation` maps switches to training configs, trains a short run or loads a cached
  one, and compares it with the full model; `widgets.ablation_panel()` is its interactive front.
- PSNR/SSIM: higher is better; AE/LPIPS: lower is better.

Next: **11**, the real datasets and the paper's numbers.
"""),
    ]


# ==============================================================================================================
# 11 real data
# ==============================================================================================================
def nb11() -> list:
    return header(
        "11_real_data", "11 · Real data: VCIP 2020 and EPFL RGB-NIR",
        "download the VCIP 2020 challenge data in one cell, look at real NIR photos, train MPFNet on the 372 "
        "training pairs in the course profile, evaluate it on the 28 test pairs with PSNR / SSIM / AE / LPIPS, "
        "and compare with the paper's Table I and with two predictors that learn nothing. Without the data (a CPU "
        "offline), the notebook says how to get it and runs on the rendered spectral scenes instead.",
    ) + [
        code(SETUP + """import os
from pathlib import Path
from IPython.display import Markdown, display
from course_lib.data import DATASETS, DatasetUnavailable, Resize, VCIP2020, download, open_dataset
from course_lib.metrics import backbone_path, evaluate, reference_predictors
from course_lib.train import run_all"""),
        md("""
## 1. The datasets and the paper's numbers

| dataset | pairs | size | used in |
| --- | --- | --- | --- |
| VCIP 2020 Grand Challenge, NIR-to-RGB | 372 train + 18 validation + 28 test | 256 × 256 | Table I |
| EPFL RGB-NIR Scene (`nirscene1`) | 477 in 9 categories | ~1024 × 680 | Table II |

The VCIP 2020 images are cut from EPFL's *country, field, forest, mountain* photos and registered. The paper's
results, typed in as the reference we compare against:
"""),
        code("""
display(Markdown("**Table I, VCIP 2020**\\n\\n" + widgets.compare_with_paper({}, "vcip2020")))
display(Markdown("**Table II, EPFL**\\n\\n" + widgets.compare_with_paper({}, "epfl")))
assert widgets.PAPER_TABLES["vcip2020"]["MPFNet (paper)"] == (22.14, 0.63, 3.68, 0.253)
assert widgets.PAPER_TABLES["epfl"]["MPFNet (paper)"] == (20.61, 0.61, 4.16, 0.274)
"""),
        md("""
## 2. Getting the data

`download("vcip2020", ROOT)` (or `python -m course_lib download vcip2020 --root ROOT`) fetches the challenge
data, 845 files and 69 MB, from its public mirror at a pinned commit and checks **every file's size and SHA-256**
against the list shipped inside `course_lib`. Files already there and correct are not fetched again, so running
it twice, or after a disconnect, only fetches what is missing; a corrupt file never replaces a good one.
`download("epfl", ROOT)` does the same for EPFL's `nirscene1.zip` (952 MB, resumable).

On Colab the cell below downloads into `/content/data/vcip2020` (the local disk: an estimated minute per session,
not timed on Colab; faster to read than Drive). Elsewhere it uses `NIR_DATA_ROOT` or `data/vcip2020` if they
exist, and otherwise explains how to get the data; set `GET_DATA = True` to fetch it from here.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
DATA_ROOT = Path(os.environ.get("NIR_DATA_ROOT") or ("/content/data/vcip2020" if widgets.in_colab()
                                                        else "data/vcip2020"))
GET_DATA = widgets.in_colab()           # True: download VCIP 2020 (69 MB, verified file by file) if needed
if GET_DATA:
    download("vcip2020", DATA_ROOT)
elif not DATA_ROOT.exists():
    print(f"No dataset at {DATA_ROOT.resolve()}. To get VCIP 2020 (69 MB):\\n"
          f"    python -m course_lib download vcip2020 --root {DATA_ROOT}\\n"
          "or set NIR_DATA_ROOT to a copy you have, laid out as\\n    " + DATASETS["vcip2020"]["layout"] + "\\n"
          "Meanwhile this notebook runs on the rendered spectral scenes.")
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
if DATA_ROOT.exists():
    data = DATA_ROOT
    train = open_dataset(data, split="train", size=profile.image_size)
    dataset_name = "epfl" if type(train).__name__ == "EPFLNirScene" else "vcip2020"
    held_out_split = "test"
    if dataset_name == "vcip2020" and not any(p.name.lower() in ("testing", "test") for p in data.iterdir()):
        held_out_split = "val"              # a copy without Testing/: the 18 validation pairs instead
    test = open_dataset(data, split=held_out_split, size=profile.image_size)
    print(f"real data: {len(train)} training pairs, {len(test)} {held_out_split} pairs ({dataset_name})")
else:
    data, dataset_name, held_out_split = None, "vcip2020", "test"
    train = open_dataset(None, size=profile.image_size, count=profile.num_train)
    test = open_dataset(None, split="test", size=profile.image_size, count=profile.num_test)
    print("No real dataset found: using the rendered spectral scenes (the comparison with the paper is then only "
          "about the procedure, not the numbers).")
fig = viz.show_images([item[band] for item in (train[0], train[len(train) // 2]) for band in ("nir", "rgb")],
                      titles=["NIR", "RGB", "NIR", "RGB"], ncols=4, size=2.4)
"""),
        md("""
Look at the pairs: vegetation is **bright** in NIR (chlorophyll reflects strongly past 700 nm) but green in RGB;
sky is dark in NIR but blue in RGB. Brightness alone cannot say which colour a pixel had, which is why the paper
first translates NIR into a grayscale image and colourises that.

**What the distributed splits share.** In the challenge data, 8 of the 28 test pairs are byte-identical copies of
training pairs, and 15 of the 18 validation pairs are test pairs. A model trained on all 372 training pairs has
therefore *seen* 8 test images. `VCIP2020(root, "test", exclude_train_overlap=True)` leaves the 20 unseen ones;
we report both, the 28 to compare with the paper's Table I (which used all 28), the 20 as the honest figure.

## 3. Exercise: square crops of large images

EPFL images are about 1024 × 680 and not square; the networks train on square crops. Squashing the image to a
square would distort the scene (a tree gets fatter), cropping without scaling would keep a tiny piece. Write
what `course_lib.data.Resize` does: scale the image so its **shorter** side is `size` (keeping the aspect ratio),
then cut the **central** `size` × `size` square.
"""),
        code('''
import torch.nn.functional as F


def resize_shorter_and_crop(image, size):
    """image: (C, H, W) in [-1, 1] -> (C, size, size)."""
    # your code here (F.interpolate, then slicing)
    raise NotImplementedError


exercises_part2.check_resize_shorter_and_crop(resize_shorter_and_crop)
'''),
        md("*For instructors:* the solution agrees with the loaders' `Resize` on a wide image:"),
        code("""
# NBVAL_IGNORE_OUTPUT
assert exercises_part2.check_resize_shorter_and_crop(solutions_part2.resize_shorter_and_crop)
wide = {"nir": torch.rand(1, 68, 102) * 2 - 1, "rgb": torch.rand(3, 68, 102) * 2 - 1, "name": "wide"}
ours = solutions_part2.resize_shorter_and_crop(wide["rgb"], 32)
theirs = Resize(32)(wide)["rgb"]
assert ours.shape == theirs.shape == (3, 32, 32)
print(f"mean |difference| to Resize: {float((ours - theirs).abs().mean()):.3f} (interpolation details differ)")
"""),
        md("""
## 4. Train in the course profile

On a Colab GPU the profile is `course` (256 px, mixed precision): the three stages and the direct route on the
372 training pairs. The run folder is on Drive, so after a disconnect running this cell again resumes. On a CPU
the profile is the tiny `smoke` one: it shows the procedure, not a result. Without real data this is the
spectral run of notebooks 07-10 (already trained: it loads).
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
REAL_RUN_DIR = RUN_DIR if data is None else RUN_DIR.parent / f"{dataset_name}-{profile.name}"
results = run_all(profile, REAL_RUN_DIR, data=data)
assert (REAL_RUN_DIR / "finetune" / "checkpoint.pt").is_file()
"""),
        md("""
## 5. Evaluate and compare with the paper

Four rows of ours: the progressive route (MPFNet), the same network trained directly NIR -> RGB, and two
predictors that learn nothing, fitted on the training pairs (`reference_predictors`): the **mean training
colour** painted everywhere and the **NIR image copied** to R, G and B. A colourisation that does not beat both
has not learned colour, whatever its PSNR. On VCIP 2020's 18 validation pairs at 256 px they score 12.67 dB /
SSIM 0.353 / AE 7.01 (mean colour) and 11.62 dB / 0.495 / 7.15 (NIR copy), measured by
`benchmarks/vcip_references.py`; the cell measures them again on whatever held-out split it has.
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
lpips = "auto" if (widgets.in_colab() or backbone_path("alex").is_file()) else False  # AlexNet weights needed
methods = {f"ours, progressive ({profile.name})": results["finetune"].colorizer,
           f"ours, direct ({profile.name})": results["direct"].colorizer, **reference_predictors(train)}
ours = {name: evaluate(method, test, lpips=lpips, method=name) for name, method in methods.items()}
comparison = widgets.compare_with_paper(ours, dataset_name)
display(Markdown(f"**{held_out_split} split, {len(test)} pairs, {profile.image_size} px**\\n\\n" + comparison))
if data is not None and dataset_name == "vcip2020" and held_out_split == "test":
    unseen = VCIP2020(data, "test", transform=Resize(profile.image_size), exclude_train_overlap=True)
    unseen_scores = {name: evaluate(method, unseen, lpips=lpips, method=name) for name, method in methods.items()}
    display(Markdown(f"**the {len(unseen)} test pairs that are not copies of training pairs**\\n\\n"
                     + widgets.compare_with_paper(unseen_scores, dataset_name)))
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
assert comparison.count("this run") == len(methods) and "MPFNet (paper)" in comparison
assert all(math.isfinite(e.summary["psnr"][0]) for e in ours.values())
picks = [test[i] for i in sorted({0, len(test) // 2, len(test) - 1})]
fig = viz.show_colorizations({"progressive": results["finetune"].colorizer, "direct": results["direct"].colorizer,
                              "mean colour": methods["mean training colour"]}, picks)
"""),
        md("""
Reading the comparison:

- The paper trains for 400 + 250 epochs (the `paper` profile); the `course` profile is a short cut, so expect
  lower numbers. The gap between *our* progressive and direct rows, at equal budget, is the paper's claim you can
  test; the absolute numbers are not. A CPU `smoke` run is far too short to beat the mean colour: it only shows
  that the procedure runs.
- The mean-colour and NIR-copy rows are the floor: a row at their level has learned nothing about colour.
- LPIPS needs the AlexNet weights (on Colab they download on first use); n/a means they were not available.
- On rendered scenes the paper's numbers are not comparable at all: different images, different difficulty.
"""),
        md("""
## 6. The shipped weights on the real photos

Whatever the run above could do on this machine, `course_lib` ships weights trained on the 372 VCIP 2020
training pairs on a CPU (`tools/ship_weights.py` records how); here they are on three real validation photos
that are in neither the training nor the test split:
"""),
        code("""
# NBVAL_IGNORE_OUTPUT
from course_lib import showcase

fig = showcase.routes_figure("vcip2020")
display(Markdown(showcase.scores_table("vcip2020")))
"""),
        md("""
These are the honest numbers of a CPU budget: both routes beat the two predictors that learn nothing, neither
looks like a colour photo yet, and the direct route is ahead. `benchmarks/vcip_cpu.py` measures where the
progressive route loses (its translator; see the README's "Real data" section), and the `course` profile on a
Colab GPU is the next step up.
"""),
        md("""
## Summary

- `download("vcip2020", ROOT)` fetches and verifies the challenge data file by file; `download("epfl", ROOT)` the
  EPFL archive. `VCIP2020` / `open_dataset` read the layout as distributed.
- 8 of VCIP 2020's 28 test pairs are copies of training pairs: report the 20 unseen ones beside the 28.
- The shipped CPU-trained weights reach 14.00 dB (progressive) and 14.26 dB (direct) on the validation pairs: above
  the mean colour (12.67 dB), far from the paper (22.14 dB).
- Large, non-square images are scaled by their shorter side and centre-cropped (`Resize`).
- `run_all` + `evaluate` + `widgets.compare_with_paper` reproduce the paper's procedure; read every number
  against the mean-colour and NIR-copy references, and trust the progressive-vs-direct difference at equal
  budget more than the absolute values.
"""),
    ]


BUILDERS = {
    "07_cyclegan_translator": nb07,
    "08_colorizer_pretraining": nb08,
    "09_progressive_finetuning": nb09,
    "10_evaluation_and_ablations": nb10,
    "11_real_data": nb11,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], BUILDERS))
