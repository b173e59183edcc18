"""Every picture a course notebook shows, drawn by tested code (``tests/test_figures.py``), so the notebooks stay
short. One module per topic; every name is also here, so a notebook writes ``figures.show_images(...)``:

=====================  ======================================================================================
module                 what it draws
=====================  ======================================================================================
:mod:`.images`         images and dataset items: :func:`to_display`, :func:`show_images`, :func:`show_item`,
                       :func:`show_colorizations` (NIR | each method | ground truth), :func:`show_material_map`
:mod:`.spectra`        light and cameras (notebook 01): :func:`plot_spectra`, :func:`plot_material_swatches`,
                       :func:`plot_nir_vs_rgb`
:mod:`.diagrams`       block diagrams: :func:`draw_pipeline` (Fig. 1), :func:`draw_mpfnet` (Fig. 2(a)),
                       :func:`draw_coordinate_attention`, from :func:`draw_block_diagram` and :class:`Box`
:mod:`.internals`      inside the models: :func:`show_attention_gates`, :func:`record_shapes` (forward hooks),
                       :func:`plot_shape_profile`, :func:`plot_channel_stats`, :func:`show_scale_predictions`
:mod:`.training`       losses and training: :func:`plot_loss_curves`, :func:`equal_l1_distortions`,
                       :func:`plot_loss_ranking`
:mod:`.tables`         tables and source: :func:`format_table`, :func:`show_table`, :func:`source_of`,
                       :func:`show_source`
=====================  ======================================================================================

Image tensors are float in [-1, 1], every plotting function returns its matplotlib Figure, figures are small
(``DPI`` = 80): the conventions are spelled out in :mod:`.images`. A stage's saved sample grids are drawn by
:mod:`course_lib.course.runs` (:func:`~course_lib.course.runs.show_stage_samples`), with the run folders.
"""

from .diagrams import Box, draw_block_diagram, draw_coordinate_attention, draw_mpfnet, draw_pipeline
from .images import DPI, show_colorizations, show_images, show_item, show_material_map, to_display
from .internals import (plot_channel_stats, plot_shape_profile, record_shapes, show_attention_gates,
                        show_scale_predictions)
from .spectra import plot_material_swatches, plot_nir_vs_rgb, plot_spectra
from .tables import format_table, show_source, show_table, source_of
from .training import equal_l1_distortions, plot_loss_curves, plot_loss_ranking

__all__ = [
    "DPI",
    "to_display",
    "show_images",
    "show_item",
    "show_colorizations",
    "show_material_map",
    "plot_spectra",
    "plot_material_swatches",
    "plot_nir_vs_rgb",
    "Box",
    "draw_block_diagram",
    "draw_pipeline",
    "draw_mpfnet",
    "draw_coordinate_attention",
    "show_attention_gates",
    "record_shapes",
    "plot_shape_profile",
    "plot_channel_stats",
    "show_scale_predictions",
    "plot_loss_curves",
    "equal_l1_distortions",
    "plot_loss_ranking",
    "format_table",
    "show_table",
    "source_of",
    "show_source",
]
