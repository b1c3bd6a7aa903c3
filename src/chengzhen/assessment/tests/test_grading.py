"""Stored scores, grades with quotas and ties at the cut, competition ranks."""

from __future__ import annotations

from decimal import Decimal as D

from chengzhen.assessment.framework import grade_scheme
from chengzhen.assessment.grading import grades, ranks, stored

BANDS = {
    "bands": [{"name": "优秀", "min": 90}, {"name": "良好", "min": 80}, {"name": "合格", "min": 60}, {"name": "不合格"}]
}


def scheme(**extra):
    return grade_scheme({**BANDS, **extra}, lambda reason: (_ for _ in ()).throw(AssertionError(reason)))


def test_stored_rounds_half_up_from_the_shortest_repr():
    assert stored(6.205) == D("6.21")  # binary 6.20499… would round down; the repr says 6.205
    assert stored(2.675) == D("2.68")
    assert stored(-0.001) == D("0.00") and str(stored(-0.001)) == "0.00"
    assert stored(float("nan")) == D("0.00")


def test_bands_are_half_open():
    s = scheme()
    assert grades([D("90.00"), D("89.99"), D("80.00"), D("60.00"), D("59.99")], s) == [
        "优秀",
        "良好",
        "良好",
        "合格",
        "不合格",
    ]


def test_excluded_subjects_take_the_last_grade_whatever_their_score():
    assert grades([D("99"), D("95")], scheme(), [True, False]) == ["不合格", "优秀"]


def test_quota_with_ties_at_the_cut_excluded():
    # ten subjects, 优秀 ≤ 30% → 3 places; four score ≥ 90, two tied at the cut (91)
    totals = [D(x) for x in ("95", "93", "91", "91", "85", "84", "70", "65", "61", "50")]
    s = scheme(quota={"优秀": 0.3})
    assert grades(totals, s)[:5] == ["优秀", "优秀", "良好", "良好", "良好"]
    s_incl = scheme(quota={"优秀": 0.3}, quota_ties="include")
    assert grades(totals, s_incl)[:5] == ["优秀", "优秀", "优秀", "优秀", "良好"]


def test_quota_without_a_tie_fills_exactly():
    totals = [D(x) for x in ("95", "93", "92", "91", "50", "50", "50", "50", "50", "50")]
    assert grades(totals, scheme(quota={"优秀": 0.3})).count("优秀") == 3


def test_moved_down_subjects_meet_the_next_quota():
    totals = [D(x) for x in ("95", "94", "93", "92")]
    got = grades(totals, scheme(quota={"优秀": 0.25, "良好": 0.25}))
    assert got == ["优秀", "良好", "合格", "合格"]


def test_competition_ranks_and_excluded_last():
    assert ranks([D("90"), D("95"), D("90"), D("80")]) == [2, 1, 2, 4]
    assert ranks([D("99"), D("95"), D("90")], [True, False, False]) == [3, 1, 2]
