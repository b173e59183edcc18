"""Real NIR/RGB photo pairs shipped inside the package (``course_lib/data/samples/``), for the notebooks.

:func:`sample_pairs` opens one of the sample folders as a :class:`~course_lib.data.folders.PairedFolder`; the
source and terms of every folder are in ``course_lib/data/samples/README.md``. No download, no path outside the
package: the files are package data.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Callable

from .folders import PairedFolder

__all__ = ["sample_pairs", "sample_folder", "SAMPLE_SETS"]

#: The sample sets shipped, by name -> what they are.
SAMPLE_SETS = {
    "vcip2020": "3 VCIP 2020 validation pairs (validation_0006, 0010, 0016; 256x256), in neither the challenge's "
                "training nor its test split",
}


def sample_folder(name: str = "vcip2020") -> Path:
    """The folder of the sample set ``name`` inside the installed package (ValueError for an unknown name)."""
    if name not in SAMPLE_SETS:
        raise ValueError(f"sample_pairs: unknown sample set {name!r}; shipped: {sorted(SAMPLE_SETS)}")
    folder = Path(str(resources.files("course_lib.data") / "samples" / name))
    if not folder.is_dir():
        raise FileNotFoundError(f"sample_pairs: the sample folder {folder} is missing from this installation of "
                                "course_lib; reinstall it (the images are package data)")
    return folder


def sample_pairs(name: str = "vcip2020", transform: Callable[[dict], dict] | None = None) -> PairedFolder:
    """The real photo pairs shipped with course_lib, as a dataset of the standard items
    ``{"nir": FloatTensor[1,H,W], "rgb": FloatTensor[3,H,W]`` in [-1, 1], ``"name": str}``.

    Args:
        name: the sample set; ``"vcip2020"`` (the only one): 3 VCIP 2020 validation pairs at 256x256 named
            ``validation_0006``, ``validation_0010``, ``validation_0016``, which are in neither the challenge's
            training nor its test split (source and terms: ``course_lib/data/samples/README.md``).
        transform: applied to every item, as for :class:`~course_lib.data.PairedFolder` (e.g. ``Resize(64)``).
    """
    return PairedFolder(sample_folder(name), transform=transform)
