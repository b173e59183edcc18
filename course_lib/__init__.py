"""course_lib: the companion package of the NIR colorization course.

It rebuilds MPFNet (Yang, Chen and Yang, "Multi-scale Progressive Feature Embedding for Accurate NIR-to-RGB
Spectral Domain Translation") piece by piece: the networks (`course_lib.models`), physically rendered and real
NIR/RGB data (`course_lib.data`), the losses and the metrics of Table I (`course_lib.losses`,
`course_lib.metrics`), and the three training stages (`course_lib.train`). The notebooks in `notebooks/` import
everything from here, so every line a student runs is tested code; what only the notebooks need (figures, the
exercises' checks, run folders, the ablation panel) is the sub-package `course_lib.course`, which the library
itself never imports.
"""

__version__ = "0.1.0"
