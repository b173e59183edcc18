"""Real NIR photos through the shipped weights: what the result sections of notebooks 07-11 show with
``TRAIN = False`` (the default on a CPU, :func:`course_lib.course.runs.train_default`), where training the
`course` profile is out of reach; with ``TRAIN = True`` the same functions show the networks the notebook trained.

Every function uses, by default, the weights registered in ``course_lib/weights/registry.json`` (see
:mod:`course_lib.pretrained`) and the real sample pairs shipped in the package (:func:`course_lib.data.sample_pairs`:
three VCIP 2020 validation pairs in neither the challenge's training nor its test split), so nothing is
downloaded:

* :func:`translator_figure` - NIR | the translator's gray | the true gray, with PSNR and correlation;
* :func:`colouriser_figure` - the colouriser F_G given the true gray and given the NIR image (the domain gap);
* :func:`routes_figure` - NIR | progressive | direct | mean training colour | ground truth;
* :func:`scores_table` - Table I's metrics of both routes and of the two predictors that learn nothing on the
  sample pairs (or on other pairs: ``items``), beside the paper's rows and the scores the registry records for the
  18 validation pairs;
* :func:`temperature_figure` / :func:`temperature_slider` - a colouriser with a chroma-bin head (``colour_bins``)
  read at several annealed-mean temperatures, as pictures or with a slider;
* :func:`shipped_colorizers` - the two shipped routes. The file holds G_N2G and F_G of the progressive route
  (after fine-tuning) and the direct route's network, nothing else: no G_G2N, no discriminators, no F_G as it was
  after pre-training (:data:`NOT_SHIPPED`).

Each takes ``name`` (the registry entry, default ``"vcip2020"``) and ``samples`` (the shipped sample set, default
``"vcip2020"``) and returns what it made; a missing or tampered weights file raises the error of
:func:`course_lib.pretrained.load_pretrained`. The figures also take keyword arguments to show networks a notebook
trained instead (``models``, ``f_g``, ``colorizers``) on other pairs (``items``, e.g. held-out rendered scenes);
those networks may live on a GPU: the pictures go to their device and come back to the CPU.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["translator_figure", "colouriser_figure", "routes_figure", "scores_table", "sample_items",
           "temperature_figure", "temperature_slider",
           "mean_colour_of_samples", "shipped_colorizers", "NOT_SHIPPED"]

#: What a course_lib weights file does not hold (:mod:`course_lib.pretrained` keeps what colourises, no more).
NOT_SHIPPED = ("G_G2N (the translator back to NIR)", "the discriminators D_N^img, D_G^img and D_G^feat",
               "F_G as it was after pre-training (stage 2): the shipped F_G is the fine-tuned one (stage 3)")


def shipped_colorizers(name: str = "vcip2020") -> dict[str, Any]:
    """The two routes of the shipped weights ``name``: ``{"progressive": ProgressiveColorizer (its ``g_n2g`` and
    ``f_g``, after fine-tuning), "direct": DirectColorizer}``, in eval mode on the CPU. Nothing else is shipped
    (:data:`NOT_SHIPPED`)."""
    from ..pretrained import load_pretrained

    return {"progressive": load_pretrained(name, route="progressive"),
            "direct": load_pretrained(name, route="direct")}


def _device(fn: Any) -> torch.device:
    """The device of a module's parameters, or of the module a bound method belongs to (e.g.
    ``colorizer.translate``); CPU for a plain function or a module without parameters."""
    owner = getattr(fn, "__self__", fn)
    if isinstance(owner, torch.nn.Module):
        for parameter in owner.parameters():
            return parameter.device
    return torch.device("cpu")


def _on_cpu(fn: Any):
    """``fn`` as a function of CPU tensors: the input goes to ``fn``'s device, its finest output (the last one of
    a multi-scale list) comes back to the CPU as float32. No gradients."""
    device = _device(fn)

    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out = fn(x.to(device))
        out = out[-1] if isinstance(out, (list, tuple)) else out
        return out.float().cpu()

    return call


def _items(items: Any, samples: str) -> list[dict]:
    """``items`` (a list, a dataset or an iterable of pairs) as a list (default: the shipped sample pairs);
    ValueError when empty."""
    if items is None:
        chosen = sample_items(samples)
    elif hasattr(items, "__len__") and hasattr(items, "__getitem__"):
        chosen = [items[i] for i in range(len(items))]      # a list, or a dataset indexed 0..len-1
    else:
        chosen = list(items)
    if not chosen:
        raise ValueError("items: expected at least one pair with 'nir' and 'rgb', got none")
    return chosen


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


def translator_figure(name: str = "vcip2020", samples: str = "vcip2020", *, models: Any = None, items: Any = None):
    """NIR | G_N2G's gray | the true gray of each pair; returns ``(figure, stats)`` with the PSNR (dB) and
    correlation of the translated gray against the true gray, and of the NIR image itself, per pair.

    By default G_N2G is the shipped translator and the pairs are the shipped sample photos. ``models``: the
    networks of a stage-1 run instead (``{"g_n2g": ..., "g_g2n": ...}``, e.g. ``translate(...).models``); with a
    ``"g_g2n"`` the figure adds a fourth column, the cycle back to NIR G_G2N(G_N2G(NIR)), and ``stats`` its mean
    absolute error to the NIR image (``cycle_error``); the shipped weights hold no G_G2N. ``items``: the pairs to
    show (dicts with ``nir`` [1, H, W], ``rgb`` [3, H, W], ``name``)."""
    import matplotlib.pyplot as plt

    from ..data import to_gray
    from ..metrics import psnr_per_image
    from .figures import to_display

    if models is None:
        from ..pretrained import load_pretrained

        translate, back = _on_cpu(load_pretrained(name, route="progressive").g_n2g), None
    else:
        if "g_n2g" not in models:
            raise ValueError(f"models: expected a stage-1 run's networks with 'g_n2g', got {sorted(models)}")
        translate = _on_cpu(models["g_n2g"])
        back = _on_cpu(models["g_g2n"]) if "g_g2n" in models else None
    items = _items(items, samples)
    ncols = 3 if back is None else 4
    fig, axes = plt.subplots(len(items), ncols, figsize=(2.1 * ncols, 2.1 * len(items)), dpi=90, squeeze=False)
    stats = []
    for row, item in enumerate(items):
        gray = translate(item["nir"][None])[0].clamp(-1, 1)
        true = to_gray(item["rgb"])

        def score(g: torch.Tensor) -> tuple[float, float]:
            p = float(psnr_per_image(g.expand(3, -1, -1)[None], true.expand(3, -1, -1)[None])[0])
            c = float(torch.corrcoef(torch.stack([g.flatten(), true.flatten()]))[0, 1])
            return p, c

        (p_t, c_t), (p_n, c_n) = score(gray), score(item["nir"])
        row_stats = {"name": item.get("name", str(row)), "translated_psnr": p_t, "translated_corr": c_t,
                     "nir_psnr": p_n, "nir_corr": c_n}
        pictures = [item["nir"], gray, true]
        titles = ["NIR", f"G_N2G(NIR): {p_t:.1f} dB, r={c_t:.2f}", "true gray (of the RGB photo)"]
        if back is not None:
            cycled = back(gray[None])[0].clamp(-1, 1)
            row_stats["cycle_error"] = float((cycled - item["nir"]).abs().mean())
            pictures.append(cycled)
            titles.append("G_G2N(G_N2G(NIR))")
        stats.append(row_stats)
        for col, (picture, title) in enumerate(zip(pictures, titles)):
            ax = axes[row][col]
            ax.imshow(to_display(picture), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0 or col == 1:
                ax.set_title(title, fontsize=8)
        axes[row][0].set_ylabel(str(item.get("name", "")), fontsize=8)
    fig.tight_layout()
    return fig, stats


def colouriser_figure(name: str = "vcip2020", samples: str = "vcip2020", *, f_g: Any = None, items: Any = None):
    """gray | F_G(gray) | NIR | F_G(NIR) | ground truth for each pair, with the PSNR of both colourisations.
    Returns ``(figure, rows)``.

    By default F_G is the shipped progressive route's colouriser (after fine-tuning: the F_G of pre-training alone
    is not shipped) and the pairs are the shipped sample photos; ``f_g``: another colouriser (e.g.
    ``pretrain(...).models["f_g"]``), ``items``: other pairs."""
    from ..data import to_gray
    from ..metrics import psnr_per_image
    from .figures import show_images

    if f_g is None:
        from ..pretrained import load_pretrained

        f_g = load_pretrained(name, route="progressive").f_g
    colour = _on_cpu(f_g)
    pictures, titles, rows = [], [], []
    for item in _items(items, samples):
        gray = to_gray(item["rgb"])
        from_gray, from_nir = (colour(x[None])[0].clamp(-1, 1) for x in (gray, item["nir"]))
        p_gray = float(psnr_per_image(from_gray[None], item["rgb"][None])[0])
        p_nir = float(psnr_per_image(from_nir[None], item["rgb"][None])[0])
        rows.append({"name": item.get("name", str(len(rows))), "F_G(gray) PSNR": p_gray, "F_G(NIR) PSNR": p_nir})
        pictures += [gray, from_gray, item["nir"], from_nir, item["rgb"]]
        titles += ["true gray", f"F_G(gray): {p_gray:.1f} dB", "NIR", f"F_G(NIR): {p_nir:.1f} dB", "ground truth"]
    return show_images(pictures, titles=titles, ncols=5, size=1.8), rows


def routes_figure(name: str = "vcip2020", samples: str = "vcip2020", *, colorizers: Any = None, items: Any = None,
                  with_gray: bool = False):
    """NIR | progressive | direct | mean training colour | ground truth for each pair (the shipped weights on the
    shipped sample photos by default).

    ``colorizers``: ``{column title: colorizer}`` to show instead (e.g. the routes a notebook trained; any callable
    NIR batch -> RGB batch, on any device); ``items``: other pairs; ``with_gray``: a column "X_N2G (gray)" after the
    NIR one, the gray that the first colorizer with a ``translate`` method (a progressive route) colours."""
    from .figures import show_colorizations

    if colorizers is None:
        methods = {**shipped_colorizers(name), "mean colour": mean_colour_of_samples(name, samples)}
        suptitle = f"shipped weights '{name}' on real NIR photos"
    else:
        methods, suptitle = dict(colorizers), None
    if with_gray:
        progressive = next((m for m in methods.values() if hasattr(m, "translate")), None)
        if progressive is None:
            raise ValueError("with_gray: expected a progressive colorizer (with a translate method) among "
                             f"{list(methods)}")
        translate = _on_cpu(progressive.translate)
        methods = {"X_N2G (gray)": lambda nir: translate(nir).clamp(-1, 1).expand(-1, 3, -1, -1), **methods}
    methods = {title: _on_cpu(method) for title, method in methods.items()}
    return show_colorizations(methods, _items(items, samples), suptitle=suptitle)


def scores_table(name: str = "vcip2020", samples: str = "vcip2020", *, items: Any = None, label: str | None = None,
                 lpips: Any = False) -> str:
    """A Markdown table: the paper's Table I rows, then both routes of the shipped weights and the two
    references on the sample pairs (this run), then the registry's scores on the 18 validation pairs.

    ``items``: other pairs to score the four rows on (e.g. a VCIP 2020 split opened at 256 px), named ``label`` in
    the rows (default ``"N pairs"``; ``"3 sample pairs"`` for the sample photos). ``lpips``: as
    :func:`course_lib.metrics.evaluate` (default False: no LPIPS column values)."""
    from ..metrics import evaluate, reference_predictors
    from ..pretrained import pretrained_info
    from .paper import compare_with_paper

    kind = "sample pairs" if items is None else "pairs"
    items = _items(items, samples)
    label = f"{len(items)} {kind}" if label is None else label
    refs = reference_predictors(items)
    routes = shipped_colorizers(name)
    methods = {f"shipped progressive ({label})": routes["progressive"],
               f"shipped direct ({label})": routes["direct"],
               f"mean training colour ({label})": mean_colour_of_samples(name, samples),
               f"NIR copied to RGB ({label})": refs["NIR copied to RGB"]}
    results = {row: evaluate(fn, items, lpips=lpips, method=row) for row, fn in methods.items()}
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


def _binned_route(name: str, colorizer: Any) -> Any:
    """The progressive colorizer to read at other temperatures (the shipped one by default); ValueError naming the
    weights when its F_G has no chroma-bin head."""
    from ..models import BinnedMPFNet

    shipped = colorizer is None
    if shipped:
        from ..pretrained import load_pretrained

        colorizer = load_pretrained(name, route="progressive")
    if not isinstance(getattr(colorizer, "f_g", None), BinnedMPFNet):
        raise ValueError(f"colorizer: expected a progressive route whose F_G has a chroma-bin head (trained with "
                         f"colour_bins > 0); {'the weights ' + repr(name) if shipped else 'this one'} has none")
    return colorizer


def temperature_figure(name: str = "vcip2020", samples: str = "vcip2020", *, colorizer: Any = None,
                       items: Any = None, temperatures: tuple[float, ...] = (1.0, 0.38, 0.1)):
    """NIR | the route at each temperature | ground truth, one row per pair, with each output's colourfulness
    (Hasler & Suesstrunk) in its title. Returns ``(figure, rows)``; the colorizer's temperature is restored.

    ``colorizer``: a progressive route whose F_G has a chroma-bin head (default: the shipped one)."""
    from ..metrics import colourfulness, psnr_per_image
    from .figures import show_images

    colorizer = _binned_route(name, colorizer)
    trained = colorizer.f_g.temperature
    pictures, titles, rows = [], [], []
    try:
        for item in _items(items, samples):
            nir, rgb = item["nir"][None], item["rgb"][None]
            pictures.append(item["nir"])
            titles.append("NIR")
            row = {"name": item.get("name", str(len(rows)))}
            for t in temperatures:
                colorizer.f_g.temperature = t
                out = _on_cpu(colorizer)(nir).clamp(-1, 1)
                c, p = float(colourfulness(out)[0]), float(psnr_per_image(out, rgb)[0])
                row[f"T={t:g}"] = {"psnr": p, "colourfulness": c}
                pictures.append(out[0])
                titles.append(f"T = {t:g}: {p:.1f} dB, C {c:.0f}")
            pictures.append(item["rgb"])
            titles.append(f"ground truth, C {float(colourfulness(rgb)[0]):.0f}")
            rows.append(row)
    finally:
        colorizer.f_g.temperature = trained
    return show_images(pictures, titles=titles, ncols=len(temperatures) + 2, size=1.8), rows


def temperature_slider(name: str = "vcip2020", samples: str = "vcip2020", *, colorizer: Any = None,
                       items: Any = None, value: float = 1.0):
    """One sample pair coloured at a temperature chosen with a slider (0.05 to 2, log scale) and a photo picker,
    in a live Jupyter frontend (returns the widget); elsewhere the static :func:`temperature_figure` at
    T = 1, 0.38 and 0.1 (returns its ``(figure, rows)``)."""
    from .frontend import live_frontend

    colorizer = _binned_route(name, colorizer)
    chosen = _items(items, samples)
    if not live_frontend():
        return temperature_figure(name, samples, colorizer=colorizer, items=chosen)
    import ipywidgets as widgets
    from IPython.display import display

    from .panel import _figure_as_png

    slider = widgets.FloatLogSlider(value=value, base=10, min=-1.3, max=0.3, step=0.05, description="T",
                                    readout_format=".2f", continuous_update=False)
    photo = widgets.Dropdown(options=[(item.get("name", str(i)), i) for i, item in enumerate(chosen)],
                             description="photo")
    out = widgets.Output()

    def redraw(*_):
        out.clear_output(wait=True)
        with out:
            display(_figure_as_png(lambda: temperature_figure(
                name, samples, colorizer=colorizer, items=[chosen[photo.value]], temperatures=(slider.value,))[0]))

    slider.observe(redraw, names="value")
    photo.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([photo, slider]), out])
