"""Real NIR photos through the shipped weights: what notebooks 07-11 show on a CPU, where training the `course`
profile is out of reach.

Every function uses the weights registered in ``course_lib/weights/registry.json`` (see
:mod:`course_lib.pretrained`) and the real sample pairs shipped in the package (:func:`course_lib.data.sample_pairs`:
three VCIP 2020 validation pairs in neither the challenge's training nor its test split), so nothing is
downloaded:

* :func:`translator_figure` - NIR | the translator's gray | the true gray, with PSNR and correlation;
* :func:`colouriser_figure` - the colouriser F_G given the true gray and given the NIR image (the domain gap);
* :func:`routes_figure` - NIR | progressive | direct | mean training colour | ground truth;
* :func:`scores_table` - Table I's metrics of both routes and of the two predictors that learn nothing on the
  sample pairs, beside the paper's rows and the scores the registry records for the 18 validation pairs.

Each takes ``name`` (the registry entry, default ``"vcip2020"``) and ``samples`` (the shipped sample set, default
``"vcip2020"``) and returns what it made; a missing or
tampered weights file raises the error of :func:`course_lib.pretrained.load_pretrained`.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["translator_figure", "colouriser_figure", "routes_figure", "scores_table", "sample_items",
           "mean_colour_of_samples"]


def sample_items(name: str = "vcip2020") -> list[dict]:
    """The shipped sample pairs as a list of items (stored size, [-1, 1])."""
    from ..data import sample_pairs

    pairs = sample_pairs(name)
    return [pairs[i] for i in range(len(pairs))]


def mean_colour_of_samples(name: str = "vcip2020", samples: str = "vcip2020") -> Any:
    """The mean-training-colour predictor of the shipped weights (the mean RGB of the VCIP 2020 training pairs,
    stored in the weights file when it was exported), or, for a file without it, of the sample pairs."""
    from ..metrics import reference_predictors
    from ..pretrained import pretrained_info

    mean = (pretrained_info(name).get("extra") or {}).get("mean_training_colour")
    if mean is None:
        return reference_predictors(sample_items(samples))["mean training colour"]
    value = torch.tensor(mean, dtype=torch.float32)

    def mean_colour(nir: torch.Tensor) -> torch.Tensor:
        return value.to(nir.device).view(1, 3, 1, 1).expand(nir.shape[0], 3, *nir.shape[-2:])

    return mean_colour


def translator_figure(name: str = "vcip2020", samples: str = "vcip2020"):
    """NIR | G_N2G's gray | the true gray of each sample pair; returns ``(figure, stats)`` with the PSNR (dB) and
    correlation of the translated gray against the true gray, and of the NIR image itself, per pair."""
    import matplotlib.pyplot as plt

    from ..data import to_gray
    from ..metrics import psnr_per_image
    from ..pretrained import load_pretrained
    from .figures import to_display

    colorizer = load_pretrained(name, route="progressive")
    items = sample_items(samples)
    fig, axes = plt.subplots(len(items), 3, figsize=(6.3, 2.1 * len(items)), dpi=90, squeeze=False)
    stats = []
    for row, item in enumerate(items):
        with torch.no_grad():
            gray = colorizer.translate(item["nir"][None])[0].clamp(-1, 1)
        true = to_gray(item["rgb"])

        def score(g: torch.Tensor) -> tuple[float, float]:
            p = float(psnr_per_image(g.expand(3, -1, -1)[None], true.expand(3, -1, -1)[None])[0])
            c = float(torch.corrcoef(torch.stack([g.flatten(), true.flatten()]))[0, 1])
            return p, c

        (p_t, c_t), (p_n, c_n) = score(gray), score(item["nir"])
        stats.append({"name": item["name"], "translated_psnr": p_t, "translated_corr": c_t, "nir_psnr": p_n,
                      "nir_corr": c_n})
        titles = ["NIR", f"G_N2G(NIR): {p_t:.1f} dB, r={c_t:.2f}", "true gray (of the RGB photo)"]
        for col, (picture, title) in enumerate(zip((item["nir"], gray, true), titles)):
            ax = axes[row][col]
            ax.imshow(to_display(picture), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0 or col == 1:
                ax.set_title(title, fontsize=8)
        axes[row][0].set_ylabel(item["name"], fontsize=8)
    fig.tight_layout()
    return fig, stats


def colouriser_figure(name: str = "vcip2020", samples: str = "vcip2020"):
    """gray | F_G(gray) | NIR | F_G(NIR) | ground truth for each sample pair, with the PSNR of both colourisations;
    F_G is the shipped progressive route's colouriser (after fine-tuning). Returns ``(figure, rows)``."""
    from ..data import to_gray
    from ..metrics import psnr_per_image
    from ..pretrained import load_pretrained
    from .figures import show_images

    f_g = load_pretrained(name, route="progressive").f_g
    pictures, titles, rows = [], [], []
    for item in sample_items(samples):
        gray = to_gray(item["rgb"])
        with torch.no_grad():
            from_gray, from_nir = (f_g(x[None])[-1][0].clamp(-1, 1) for x in (gray, item["nir"]))
        p_gray = float(psnr_per_image(from_gray[None], item["rgb"][None])[0])
        p_nir = float(psnr_per_image(from_nir[None], item["rgb"][None])[0])
        rows.append({"name": item["name"], "F_G(gray) PSNR": p_gray, "F_G(NIR) PSNR": p_nir})
        pictures += [gray, from_gray, item["nir"], from_nir, item["rgb"]]
        titles += ["true gray", f"F_G(gray): {p_gray:.1f} dB", "NIR", f"F_G(NIR): {p_nir:.1f} dB", "ground truth"]
    return show_images(pictures, titles=titles, ncols=5, size=1.8), rows


def routes_figure(name: str = "vcip2020", samples: str = "vcip2020"):
    """NIR | progressive | direct | mean training colour | ground truth for each sample pair."""
    from ..pretrained import load_pretrained
    from .figures import show_colorizations

    methods = {"progressive": load_pretrained(name, route="progressive"),
               "direct": load_pretrained(name, route="direct"), "mean colour": mean_colour_of_samples(name, samples)}
    return show_colorizations(methods, sample_items(samples), suptitle=f"shipped weights '{name}' on real NIR photos")


def scores_table(name: str = "vcip2020", samples: str = "vcip2020") -> str:
    """A Markdown table: the paper's Table I rows, then both routes of the shipped weights and the two
    references on the sample pairs (this run), then the registry's scores on the 18 validation pairs."""
    from ..metrics import evaluate, reference_predictors
    from ..pretrained import load_pretrained, pretrained_info
    from .paper import compare_with_paper

    items = sample_items(samples)
    refs = reference_predictors(items)
    methods = {"shipped progressive (3 sample pairs)": load_pretrained(name, route="progressive"),
               "shipped direct (3 sample pairs)": load_pretrained(name, route="direct"),
               "mean training colour (3 sample pairs)": mean_colour_of_samples(name, samples),
               "NIR copied to RGB (3 sample pairs)": refs["NIR copied to RGB"]}
    results = {label: evaluate(fn, items, lpips=False, method=label) for label, fn in methods.items()}
    table = compare_with_paper(results, "vcip2020")
    scores = pretrained_info(name).get("scores") or {}
    lines = [table, ""]
    if scores:
        lines.append("Recorded when the weights were trained, on the 18 VCIP 2020 validation pairs (256 px):")
        lines.append("")
        lines.append("| route | PSNR (↑) | SSIM (↑) | AE (↓) | colourfulness |")
        lines.append("| --- | --- | --- | --- | --- |")
        for route, s in scores.items():
            if isinstance(s, dict) and "psnr" in s:
                lines.append(f"| {route} | {s['psnr']:.2f} | {s.get('ssim', float('nan')):.3f} | "
                             f"{s.get('ae', float('nan')):.2f} | {s.get('colourfulness', float('nan')):.1f} |")
    return "\n".join(lines)
