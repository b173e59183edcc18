"""The paper's Table I (VCIP 2020) and Table II (EPFL RGB-NIR Scene), typed in, and :func:`compare_with_paper`,
which puts our rows under them (notebooks 10 and 11, :mod:`course_lib.course.showcase`)."""

from __future__ import annotations

import math
from typing import Any, Mapping

__all__ = ["PAPER_TABLES", "PAPER_TABLE_NAMES", "compare_with_paper"]

#: The paper's Table I (VCIP 2020 test set) and Table II (EPFL), typed in: method -> (PSNR, SSIM, AE, LPIPS);
#: None where the paper gives no value.
PAPER_TABLES: dict[str, dict[str, tuple]] = {
    "vcip2020": {
        "NIR-GNN [8]": (17.50, 0.60, 5.22, 0.384),
        "MF [9]": (17.39, 0.61, 4.69, 0.318),
        "SST [12]": (14.26, 0.57, 5.61, 0.361),
        "ATCycleGAN [7]": (19.59, 0.59, 4.33, 0.295),
        "MPFNet (paper)": (22.14, 0.63, 3.68, 0.253),
    },
    "epfl": {
        "ATCycleGAN [7]": (16.89, 0.53, 5.64, 0.382),
        "DualGAN [13]": (17.80, 0.62, None, None),
        "MPFNet (paper)": (20.61, 0.61, 4.16, 0.274),
    },
}
PAPER_TABLE_NAMES = {"vcip2020": "Table I (VCIP 2020)", "epfl": "Table II (EPFL RGB-NIR Scene)"}
_METRICS = ("psnr", "ssim", "ae", "lpips")
_DECIMALS = {"psnr": 2, "ssim": 2, "ae": 2, "lpips": 3}


def compare_with_paper(results: Mapping[str, Any], dataset: str = "vcip2020") -> str:
    """A Markdown table: the paper's rows of Table I (``dataset="vcip2020"``) or Table II (``"epfl"``), then our
    rows (``{method: course_lib.metrics.EvaluationResult}``, means; "n/a" where a metric is missing).
    ValueError for another dataset name."""
    if dataset not in PAPER_TABLES:
        raise ValueError(f"dataset: expected one of {sorted(PAPER_TABLES)}, got {dataset!r}")

    def cell(metric: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        return f"{value:.{_DECIMALS[metric]}f}"

    lines = ["| Methods | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓) | source |", "| --- | --- | --- | --- | --- | --- |"]
    for method, values in PAPER_TABLES[dataset].items():
        lines.append(f"| {method} | " + " | ".join(cell(m, v) for m, v in zip(_METRICS, values))
                     + f" | paper, {PAPER_TABLE_NAMES[dataset]} |")
    for method, result in results.items():
        summary = result.summary
        lines.append(f"| {method} | " + " | ".join(cell(m, summary[m][0]) for m in _METRICS) + " | this run |")
    return "\n".join(lines) + "\n"
