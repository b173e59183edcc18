"""Tests of course_lib/course/paper.py: the paper's Tables I and II, and our rows under them."""

from __future__ import annotations

import math

import pytest

from course_lib.course import paper
from course_lib.metrics import EvaluationResult


def test_compare_with_paper_lists_the_papers_rows_then_ours():
    ours = EvaluationResult(rows=[], summary={"psnr": (18.5, 1.0), "ssim": (0.5, 0.1), "ae": (6.0, 1.0),
                                              "lpips": (math.nan, math.nan)})
    table = paper.compare_with_paper({"ours": ours}, "vcip2020")
    lines = table.strip().splitlines()
    assert lines[-1] == "| ours | 18.50 | 0.50 | 6.00 | n/a | this run |"
    assert "| MPFNet (paper) | 22.14 | 0.63 | 3.68 | 0.253 |" in table
    epfl = paper.compare_with_paper({}, "epfl")
    assert "| MPFNet (paper) | 20.61 | 0.61 | 4.16 | 0.274 |" in epfl
    assert "| DualGAN [13] | 17.80 | 0.62 | n/a | n/a" in epfl
    with pytest.raises(ValueError, match="dataset"):
        paper.compare_with_paper({}, "imagenet")


def test_every_table_row_has_the_four_metrics_of_table_one():
    assert set(paper.PAPER_TABLES) == set(paper.PAPER_TABLE_NAMES) == {"vcip2020", "epfl"}
    for rows in paper.PAPER_TABLES.values():
        assert all(len(values) == 4 for values in rows.values())
