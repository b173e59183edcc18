"""Block diagrams drawn from code: the paper's Fig. 1 (:func:`draw_pipeline`), Fig. 2(a) (:func:`draw_mpfnet`)
and the coordinate attention inside Fig. 2(b)'s RCAB (:func:`draw_coordinate_attention`), all from the one small
:func:`draw_block_diagram` helper (matplotlib patches and arrows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import matplotlib.pyplot as plt
from matplotlib import patches
from matplotlib.figure import Figure

from .images import DPI

__all__ = ["Box", "draw_block_diagram", "draw_pipeline", "draw_mpfnet", "draw_coordinate_attention"]


@dataclass
class Box:
    """One block of a diagram: centre (x, y), label, face colour, width and height (axes units)."""

    x: float
    y: float
    label: str
    color: str = "#dde8f5"
    width: float = 1.6
    height: float = 0.7


def draw_block_diagram(
    boxes: Mapping[str, Box],
    arrows: Iterable[tuple],
    legend: Mapping[str, str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (9.0, 4.0),
    dpi: int = DPI,
) -> Figure:
    """Draw boxes and arrows with matplotlib patches.

    ``arrows`` holds tuples ``(source, target, colour[, label[, curvature]])`` naming boxes; an arrow runs from
    the edge of one box to the edge of the other. ``legend`` maps a colour to what that colour of arrow means.
    """
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    drawn = {}
    for key, box in boxes.items():
        patch = patches.FancyBboxPatch(
            (box.x - box.width / 2, box.y - box.height / 2), box.width, box.height,
            boxstyle="round,pad=0.02,rounding_size=0.12", fc=box.color, ec="0.25", lw=1.0,
        )
        ax.add_patch(patch)
        ax.text(box.x, box.y, box.label, ha="center", va="center", fontsize=9)
        drawn[key] = patch
    for arrow in arrows:
        source, target, colour = arrow[:3]
        label = arrow[3] if len(arrow) > 3 else None
        rad = arrow[4] if len(arrow) > 4 else 0.0
        if source not in boxes or target not in boxes:
            missing = source if source not in boxes else target
            raise ValueError(f"arrows: box {missing!r} is not in boxes ({sorted(boxes)})")
        a, b = boxes[source], boxes[target]
        connector = patches.FancyArrowPatch(
            (a.x, a.y), (b.x, b.y), patchA=drawn[source], patchB=drawn[target], arrowstyle="-|>",
            mutation_scale=12, color=colour, lw=1.6, connectionstyle=f"arc3,rad={rad}",
        )
        ax.add_patch(connector)
        if label:
            ax.text((a.x + b.x) / 2, (a.y + b.y) / 2 + 0.18 + rad, label, ha="center", va="bottom",
                    fontsize=7, color=colour)
    xs = [b.x - b.width / 2 for b in boxes.values()] + [b.x + b.width / 2 for b in boxes.values()]
    ys = [b.y - b.height / 2 for b in boxes.values()] + [b.y + b.height / 2 for b in boxes.values()]
    ax.set_xlim(min(xs) - 0.3, max(xs) + 0.3)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if legend:
        handles = [patches.Patch(color=c, label=text) for c, text in legend.items()]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.02), ncol=len(handles),
                  fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


TRANSLATE_COLOUR, PRETRAIN_COLOUR, FINETUNE_COLOUR = "#2ca02c", "#d62728", "#1f77b4"


def draw_pipeline(dpi: int = DPI) -> Figure:
    """The paper's Fig. 1: NIR -> G_N2G -> gray-like -> F_G -> RGB, with the three training flows.

    Green: stage 1 ``translate`` (CycleGAN between NIR and gray, Eq. (1)); red: stage 2 ``pretrain`` (F_G learns
    gray -> RGB, Eq. (2)); blue: stage 3 ``finetune`` (NIR -> G_N2G -> F_G -> RGB with L_pf and D_G^feat, Eqs. (3)-(5)).
    """
    net, disc, data = "#fde9c8", "#f3d6e4", "#e6e6e6"
    boxes = {
        "nir": Box(0.0, 2.0, "NIR $x_n$", data, 1.3),
        "g_n2g": Box(2.2, 2.0, "$G_{N2G}$\n(MPFNet 1→1)", net),
        "x_n2g": Box(4.4, 2.0, "$x_{n2g}$\n(gray-like)", data, 1.4),
        "f_g": Box(6.6, 2.0, "$F_G$\n(MPFNet 1→3)", net),
        "rgb_out": Box(8.8, 2.0, "RGB\n(3 scales)", data, 1.3),
        "rgb": Box(6.6, 4.0, "RGB $y$", data, 1.3),
        "gray": Box(4.4, 4.0, "gray $x_g$\n(BT.601 of $y$)", data, 1.5),
        "g_g2n": Box(2.2, 0.0, "$G_{G2N}$\n(MPFNet 1→1)", net),
        "d_img": Box(4.4, 0.0, "$D_N^{img}$, $D_G^{img}$\n(PatchGAN)", disc, 1.7),
        "d_feat": Box(8.8, 0.0, "$D_G^{feat}$", disc, 1.3),
    }
    arrows = [
        ("nir", "g_n2g", FINETUNE_COLOUR),
        ("g_n2g", "x_n2g", FINETUNE_COLOUR),
        ("x_n2g", "f_g", FINETUNE_COLOUR),
        ("f_g", "rgb_out", FINETUNE_COLOUR, "$L_{pf}$"),
        ("rgb", "gray", PRETRAIN_COLOUR),
        ("gray", "f_g", PRETRAIN_COLOUR, "$L_{pp}$", 0.0),
        ("x_n2g", "g_g2n", TRANSLATE_COLOUR, "cycle", 0.2),
        ("g_g2n", "nir", TRANSLATE_COLOUR, "", -0.2),
        ("x_n2g", "d_img", TRANSLATE_COLOUR),
        ("gray", "x_n2g", TRANSLATE_COLOUR, "$L_{tran}$", 0.0),
        ("rgb_out", "d_feat", FINETUNE_COLOUR, "$L^{feat}_{GAN}$"),
    ]
    legend = {
        TRANSLATE_COLOUR: "1 translate (Eq. 1)",
        PRETRAIN_COLOUR: "2 pretrain F_G (Eq. 2)",
        FINETUNE_COLOUR: "3 fine-tune (Eqs. 3-5)",
    }
    return draw_block_diagram(boxes, arrows, legend, title="Fig. 1: NIR → gray → RGB", figsize=(9.5, 4.6), dpi=dpi)


def draw_mpfnet(scales: int = 3, dpi: int = DPI) -> Figure:
    """The paper's Fig. 2(a): one row per scale, coarsest on top. Each scale runs an FEB on its input (joined
    with the upsampled features of the coarser scale: the cross-scale skip), then an SCCM that predicts the
    image at that scale and refines the features for the next scale."""
    if scales not in (1, 2, 3):
        raise ValueError(f"scales: expected 1, 2 or 3, got {scales}")
    boxes, arrows = {}, []
    for row in range(scales):
        factor = 2 ** (scales - 1 - row)
        y = 2.0 * (scales - 1 - row)
        name = "1" if factor == 1 else f"1/{factor}"
        boxes[f"in{row}"] = Box(0.0, y, f"input ×{name}", "#e6e6e6", 1.4)
        boxes[f"feb{row}"] = Box(2.4, y, "FEB\n(UNet + RCAB)", "#fde9c8", 1.7)
        boxes[f"sccm{row}"] = Box(4.8, y, "SCCM", "#d9ecd0", 1.2)
        boxes[f"out{row}"] = Box(7.0, y, f"prediction ×{name}", "#e6e6e6", 1.7)
        arrows += [(f"in{row}", f"feb{row}", "0.2"), (f"feb{row}", f"sccm{row}", "0.2"),
                   (f"sccm{row}", f"out{row}", "0.2", "$L_{mix}$")]
        arrows.append((f"in{row}", f"sccm{row}", "0.55", "", -0.35))
        if row > 0:
            arrows.append((f"sccm{row - 1}", f"feb{row}", FINETUNE_COLOUR, "features ↑2", 0.0))
    legend = {"0.2": "per-scale path", "0.55": "image skip into SCCM", FINETUNE_COLOUR: "cross-scale skip"}
    return draw_block_diagram(boxes, arrows, legend, title=f"Fig. 2(a): MPFNet with {scales} scale(s)",
                              figsize=(8.0, 1.4 + 1.5 * scales), dpi=dpi)


def draw_coordinate_attention(dpi: int = DPI) -> Figure:
    """Coordinate attention (Hou et al. 2021), the "CA" inside the RCAB of Fig. 2(b), as a block diagram:
    pool along W and along H, a shared 1x1 conv, split, one 1x1 conv + sigmoid per direction, multiply."""
    grey, conv, gate = "#e6e6e6", "#fde9c8", "#d9ecd0"
    boxes = {
        "x": Box(0.0, 1.5, "x\n[N, C, H, W]", grey, 1.5),
        "ph": Box(2.3, 3.0, "avg over W\n[N, C, H, 1]", grey, 1.7),
        "pw": Box(2.3, 0.0, "avg over H\n[N, C, 1, W]", grey, 1.7),
        "shared": Box(4.7, 1.5, "concat (H+W)\nshared 1x1 conv\n+ h-swish", conv, 1.8, 1.0),
        "ch": Box(7.1, 3.0, "1x1 conv + sigmoid\ngate_h [N, C, H, 1]", gate, 2.1),
        "cw": Box(7.1, 0.0, "1x1 conv + sigmoid\ngate_w [N, C, 1, W]", gate, 2.1),
        "out": Box(9.6, 1.5, "x * gate_h * gate_w", grey, 1.9),
    }
    arrows = [("x", "ph", "0.2"), ("x", "pw", "0.2"), ("ph", "shared", "0.2"), ("pw", "shared", "0.2"),
              ("shared", "ch", "0.2"), ("shared", "cw", "0.2"), ("ch", "out", "0.2"), ("cw", "out", "0.2")]
    return draw_block_diagram(boxes, arrows, None,
                              title="Coordinate attention (the CA of Fig. 2(b))", figsize=(9.5, 3.8), dpi=dpi)
