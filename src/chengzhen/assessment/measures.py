"""What the platform measures itself (平台取数): the catalogue of measures a framework leaf may name
with ``measure:``, so a round fills the value from the platform's own records instead of asking
the subject. Pure: names, units and what each counts; ``platform.py`` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    unit: str  # the unit the platform gives it in (the leaf's unit must be compatible)
    what: str  # how it is derived, shown beside every value it gives


MEASURES: dict[str, Measure] = {m.code: m for m in (
    Measure("ledger.completion_rate", "台账任务完成率", "%",
            "本轮计划中由该单位（含下级）牵头、完成时限不晚于考核期末的末级任务中，已完成或已销号的比例"),
    Measure("ledger.on_schedule_rate", "台账任务按序时推进率", "%",
            "本轮计划中由该单位（含下级）牵头、考核期末前已开始的末级任务中，未滞后（形象进度不低于序时进度或已完成）的比例"),
    Measure("ledger.overdue_tasks", "逾期未完成任务数", "个",
            "本轮计划中由该单位（含下级）牵头、完成时限早于考核期末而未完成的末级任务个数"),
    Measure("supervision.deductions", "亮灯扣分次数", "处",
            "考核期内该单位（含下级）牵头任务首次亮起扣分灯色的次数（扣分候选）"),
    Measure("supervision.deduction_points", "亮灯扣分合计", "分",
            "考核期内该单位（含下级）扣分候选的分值合计"),
    Measure("supervision.commendations", "通报表扬次数", "次", "考核期内对该单位（含下级）的表扬记录数"),
    Measure("supervision.criticisms", "通报批评次数", "次", "考核期内对该单位（含下级）的通报批评记录数"),
    Measure("supervision.interviews", "约谈次数", "次", "考核期内对该单位（含下级）的约谈记录数"),
)}
