"""Builds the demo county 云溪县: divisions, units, people, three programmes, ~300 tasks and
six months of progress reports (some late, some superseded, some behind, some overdue).

Deterministic (a fixed seed) and idempotent (nothing is done when the county exists).
Everything goes through the tracked models, so the demo is in the audit chain like any
other data. Report times are set directly (the demo writes history); the service layer
never accepts a submission time from input.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from chengzhen.ledger import progress
from chengzhen.ledger.models import AnnualPlan, Cooperation, ProgressReport, Task, TimeNode
from chengzhen.org.models import Division, Membership, MembershipProgramme, Unit, User
from chengzhen.programmes.models import Phase, Programme, Target

from . import data

PASSWORD = "demo12345"
SEED = 2026
REPORT_MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
REPORT_QUARTERS = ["2026-Q2", "2026-Q3"]
AS_OF = dt.date(2026, 11, 24)  # the demo's "today" when its history was written
WAN = Decimal(10000)


def exists() -> bool:
    return Unit.objects.filter(code=data.COUNTY[1]).exists()


def logins() -> list[tuple[str, str, str, str]]:
    """(username, full name, role, unit) of the demo people, for printing."""
    rows = []
    for m in (Membership.objects.select_related("user", "user__unit", "unit")
              .order_by("role", "unit__path", "user__username")):
        rows.append((m.user.username, m.user.full_name, m.get_role_display(),
                     (m.user.unit or m.unit).name))
    return rows


class Builder:
    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.rng = random.Random(SEED)
        self.password = make_password(PASSWORD)  # hashed once: 60 hashes would take a minute
        self.units: dict[str, Unit] = {}
        self.towns: list[Unit] = []
        self.streets: list[Unit] = []
        self.editors: dict[str, User] = {}
        self.used_names: set[str] = set()

    # ---- people -----------------------------------------------------------------------
    def name(self) -> str:
        while True:
            n = self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN)
            if n not in self.used_names:
                self.used_names.add(n)
                return n

    def phone(self) -> str:
        return f"13{self.rng.randint(0, 9)}0000{self.rng.randint(1000, 9999)}"

    def person(self, username: str, role: str, unit: Unit, scope: Unit | None = None,
               **extra) -> User:
        """A person working in ``unit`` whose role covers ``scope``'s subtree (default: unit)."""
        user = User(username=username, full_name=self.name(), phone=self.phone(), unit=unit,
                    password=self.password, **extra)
        user.save()
        Membership.objects.create(user=user, role=role, unit=scope or unit)
        return user

    # ---- build ------------------------------------------------------------------------
    def build(self) -> None:
        with transaction.atomic():
            self.organisation()
            self.people()
            programmes = self.programmes()
            for programme, maker in programmes:
                n = maker(programme)
                self.say(f"  {programme.name}：{n} 项任务")
            self.reports()

    def organisation(self) -> None:
        city = Division.objects.create(code=data.CITY[0], gb2260=data.CITY[1], name=data.CITY[2],
                                       level="city")
        county = Division.objects.create(code=data.COUNTY[0], gb2260=data.COUNTY[1],
                                         name=data.COUNTY[2], level="county", parent=city)
        gov = Unit.objects.create(code=data.COUNTY[1], name="云溪县人民政府", short_name="县政府",
                                  kind="government", division=county)
        self.units["gov"] = gov
        for code, name, short in data.DEPARTMENTS:
            kind = "office" if code in ("LGO", "DCS") else "department"
            if code in ("GDGS", "CTGS", "RDCWH", "ZXWYH"):
                kind = "other"
            self.units[code] = Unit.objects.create(code=code, name=name, short_name=short,
                                                   kind=kind, parent=gov)
        villages = iter(self.rng.sample(data.VILLAGE_NAMES, len(data.VILLAGE_NAMES)))
        communities = iter(data.COMMUNITY_NAMES)
        n_div = 2
        for seg, name, kind in data.TOWNS:
            code = data.COUNTY[1] + seg + "000"
            div = Division.objects.create(code=code, name=name, level="town", parent=county)
            unit = Unit.objects.create(
                code=code, name=name + ("办事处" if kind == "street" else "人民政府"),
                short_name=name, kind=kind, division=div, parent=gov,
            )
            (self.streets if kind == "street" else self.towns).append(unit)
            self.units[name] = unit
            subs = ([(f"{i:03d}", next(communities) + "社区") for i in range(1, 5)]
                    if kind == "street" else
                    [(f"{200 + i:03d}", next(villages, f"新{name[0]}") + "村")
                     for i in range(1, 3)])
            for sub_seg, sub_name in subs:
                Division.objects.create(code=data.COUNTY[1] + seg + sub_seg, name=sub_name,
                                        level="village", parent=div)
                n_div += 1
        self.say(f"  行政区划 {n_div + len(data.TOWNS)} 个，单位 {Unit.objects.count()} 个")

    def people(self) -> None:
        u = self.units
        User.objects.create_superuser(username="admin", password=None, full_name="系统管理员")
        admin = User.objects.get(username="admin")
        admin.password = self.password
        admin.save(update_fields=["password"])
        Membership.objects.create(user=admin, role="admin", unit=u["gov"])
        # the office supervises the whole county: its role covers the government's subtree
        self.person("duban01", "supervisor", u["LGO"], scope=u["gov"], is_staff=True)
        self.person("duban02", "supervisor", u["LGO"], scope=u["gov"], is_staff=True)
        self.person("ducha01", "supervisor", u["DCS"], scope=u["gov"], is_staff=True)
        for title in ["xianzhang", "changwu", "fuxianzhang1", "fuxianzhang2"]:
            self.person(title, "leader", u["gov"])
        for i, town in enumerate(self.towns + self.streets, start=1):
            self.editors[town.code] = self.person(f"lly{i:02d}", "unit_editor", town)
        for i, town in enumerate(self.towns[:5], start=1):
            self.person(f"zhenzhang{i:02d}", "leader", town)
        for code in ("FGW", "CZJ", "ZRZYJ", "ZJJ", "JTJ", "SLJ", "NYNCJ", "STHJ", "SCJGJ",
                     "WGLJ", "JYJ", "WJW", "CGJ", "SWJ", "MZJ", "GDGS"):
            self.editors[code] = self.person(f"lly_{code.lower()}", "unit_editor", u[code])
        for code in ("ZJJ", "FGW", "CGJ", "JTJ", "SWJ"):
            self.person(f"juzhang_{code.lower()}", "leader", u[code])
        for i in range(1, 5):
            self.person(f"rddb{i:02d}", "inspector", u["RDCWH"], scope=u["gov"])
        for i in range(1, 4):
            self.person(f"zxwy{i:02d}", "inspector", u["ZXWYH"], scope=u["gov"])
        for i, town in enumerate(self.towns[:4], start=1):
            self.person(f"lly{i:02d}b", "unit_editor", town)
        self.say(f"  人员 {User.objects.filter(is_active=True).count()} 名")

    def programmes(self):
        u = self.units
        key = Programme.objects.create(
            code="ZDZ2026", name="2026年重点镇建设", kind="key_town",
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2028, 12, 31), owner_unit=u["LGO"],
            reporting_day=25,
            description="14个优先发展重点镇三年内镇区人口达到3万人以上；实行目标管理、年度考核、动态管理",
        )
        beauty = Programme.objects.create(
            code="MLCZ2026", name="2026年美丽城镇建设", kind="beautiful_town",
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), owner_unit=u["LGO"],
            reporting_cycle="quarterly", reporting_day=25,
            description="对标“五美”硬指标，挂图作战，按季结账通报",
        )
        upgrade = Programme.objects.create(
            code="CSTZ2026", name="2026年城市提质", kind="city_upgrade",
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2027, 6, 30), owner_unit=u["ZJJ"],
            reporting_day=20,
            description="2000年前建成的老旧小区明年6月底前全部完成改造；加装电梯、物业管理、充电设施同步推进",
        )
        for prog, phases in (
            (key, [("启动攻坚", "2026-01-01", "2026-12-31"), ("全面推进", "2027-01-01",
                   "2027-12-31"), ("巩固提升", "2028-01-01", "2028-12-31")]),
            (beauty, [("达标建设", "2026-01-01", "2026-09-30"), ("验收评估", "2026-10-01",
                      "2026-12-31")]),
            (upgrade, [("集中攻坚", "2026-01-01", "2026-12-31"), ("扫尾验收", "2027-01-01",
                       "2027-06-30")]),
        ):
            for i, (name, start, end) in enumerate(phases, start=1):
                Phase.objects.create(programme=prog, seq=i, name=name, start_date=start,
                                     end_date=end)
        first_phase = {p.programme_id: p for p in Phase.objects.filter(seq=1)}
        for town_name in data.PRIORITY_TOWNS:
            town = u[town_name]
            Target.objects.create(programme=key, level="overall", name="镇区常住人口",
                                  subject_division=town.division, value=Decimal("30000"),
                                  measure_unit="人", due_date=dt.date(2028, 12, 31))
            Target.objects.create(programme=key, level="annual", year=2026, name="镇区常住人口",
                                  subject_division=town.division,
                                  value=Decimal(self.rng.randrange(18000, 24000, 500)),
                                  measure_unit="人", due_date=dt.date(2026, 12, 31))
            Target.objects.create(programme=key, level="stage", phase=first_phase[key.pk],
                                  name="年度完成固定资产投资", subject_unit=town,
                                  value=Decimal(self.rng.randrange(3, 9)), measure_unit="亿元",
                                  due_date=dt.date(2026, 12, 31))
        for town in self.towns[:8]:
            for dim in ("环境美", "生活美", "产业美", "人文美", "治理美"):
                Target.objects.create(programme=beauty, level="annual", year=2026,
                                      name=f"{dim}达标", subject_unit=town, value=Decimal(80),
                                      measure_unit="分", due_date=dt.date(2026, 12, 31))
        county_div = u["gov"].division
        for name, value, unit, due in (
            ("2000年前建成老旧小区改造完成率", 100, "%", dt.date(2027, 6, 30)),
            ("既有住宅加装电梯", 40, "部", dt.date(2026, 12, 31)),
            ("小区物业管理覆盖率", 100, "%", dt.date(2026, 12, 31)),
            ("新增充电桩", 600, "个", dt.date(2026, 12, 31)),
        ):
            Target.objects.create(programme=upgrade, level="overall", name=name,
                                  subject_division=county_div, value=Decimal(value),
                                  measure_unit=unit, due_date=due)
        # one liaison limited to one programme, to show programme-limited memberships
        m = Membership.objects.get(user__username="lly04b")
        MembershipProgramme.objects.create(membership=m, programme=key)
        return [(key, self.key_town_tasks), (beauty, self.beautiful_town_tasks),
                (upgrade, self.city_upgrade_tasks)]

    # ---- tasks ------------------------------------------------------------------------
    def _dates(self, programme: Programme) -> tuple[dt.date, dt.date]:
        if self.rng.random() < 0.06 and programme.end_date.year > 2026:
            start = dt.date(2027, self.rng.randint(1, 3), 1)  # planned, not yet started
        else:
            start = dt.date(2026, self.rng.randint(1, 5), self.rng.choice([1, 1, 10, 15]))
        months = self.rng.choice([6, 8, 9, 10, 11, 12, 14, 17])
        y, m = divmod(start.month - 1 + months, 12)
        due = dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1)
        return start, min(due, programme.end_date)

    def _unit(self, code: str, town: Unit | None) -> Unit:
        return town if code in ("town", "street") else self.units[code]

    def _tasks(self, programme: Programme, prefix: str, specs) -> int:
        """specs: (name, category, requirement, lead, coop, (lo, hi), subs, town)."""
        seq = 0
        parents, children = [], []
        for name, category, requirement, lead, coop, (lo, hi), subs, town in specs:
            seq += 1
            lead_unit = self._unit(lead, town)
            start, due = self._dates(programme)
            invest = Decimal(self.rng.randint(lo, hi)) * WAN + Decimal(self.rng.randint(0, 99))
            editor = self.editors.get(lead_unit.code)
            status = "not_started" if start > AS_OF else "in_progress"
            task = Task(
                programme=programme, code=f"{prefix}-{seq:03d}", seq=seq,
                name=f"{town.short_name}{name}" if town is not None and lead != "town" and
                lead != "street" else (f"{town.short_name}{name}" if town else name),
                category=category, requirement=requirement,
                responsible_leader=self.rng.choice(["张建国", "李卫东", "王志强", "陈国庆"]) + "（副县长）",
                lead_unit=lead_unit,
                responsible_person=editor.full_name if editor else self.name(),
                responsible_phone=editor.phone if editor else self.phone(),
                responsible_user=editor if editor and self.rng.random() < 0.6 else None,
                start_date=start, due_date=due, planned_total_investment=invest,
                opening_completed_investment=(invest * Decimal("0.1")).quantize(Decimal("0.01"))
                if self.rng.random() < 0.15 else Decimal(0),
                status=status,
            )
            coops = [self._unit(c, town) for c in coop]
            parents.append((task, coops, subs))
        Task.objects.bulk_create([t for t, _, _ in parents])
        links, plans = [], []
        for task, coops, subs in parents:
            links += [Cooperation(task=task, unit=c, seq=i) for i, c in enumerate(coops)
                      if c != task.lead_unit]
            for j, sub in enumerate(subs, start=1):
                share = Decimal(self.rng.randint(20, 60)) / 100
                child = Task(
                    programme=programme, code=f"{task.code}-{j}", seq=task.seq, name=sub,
                    category=task.category, requirement=f"{task.name}：{sub}",
                    responsible_leader=task.responsible_leader, lead_unit=task.lead_unit,
                    responsible_person=task.responsible_person,
                    responsible_phone=task.responsible_phone,
                    start_date=task.start_date, due_date=task.due_date,
                    planned_total_investment=(task.planned_total_investment * share).quantize(
                        Decimal("0.01")),
                    status=task.status, parent=task,
                )
                children.append(child)
        Task.objects.bulk_create(children)
        Cooperation.objects.bulk_create(links)
        nodes = []
        for task in [t for t, _, subs in parents if not subs] + children:
            plans.append(self._annual_plan(task))
            nodes += self._nodes(task)
        AnnualPlan.objects.bulk_create([p for p in plans if p is not None])
        TimeNode.objects.bulk_create(nodes)
        return len(parents) + len(children)

    def _annual_plan(self, task: Task) -> AnnualPlan | None:
        if task.planned_total_investment == 0:
            return None
        share = Decimal(self.rng.choice([50, 60, 70, 80, 100])) / 100
        return AnnualPlan(task=task, year=2026,
                          amount=(task.planned_total_investment * share).quantize(Decimal("0.01")))

    def _nodes(self, task: Task) -> list[TimeNode]:
        span = (task.due_date - task.start_date).days
        names = data.NODE_NAMES[: self.rng.randint(2, 4)]
        out = []
        for i, name in enumerate(names):
            planned = task.start_date + dt.timedelta(days=span * (i + 1) // (len(names) + 1))
            done = None
            if planned < AS_OF and self.rng.random() < 0.75:
                done = planned + dt.timedelta(days=self.rng.randint(-5, 12))
                done = min(done, AS_OF)
            out.append(TimeNode(task=task, seq=i + 1, name=name, planned_date=planned,
                                done_on=done))
        return out

    def key_town_tasks(self, programme: Programme) -> int:
        specs = []
        for town_name in data.PRIORITY_TOWNS:
            town = self.units[town_name]
            for tpl in self.rng.sample(data.KEY_TOWN_TASKS, 9):
                name, cat, req, lead, coop, money, subs = tpl
                specs.append((name, cat, req, lead, coop, money, subs, town))
        return self._tasks(programme, "ZDZ", specs)

    def beautiful_town_tasks(self, programme: Programme) -> int:
        specs = []
        for town in self.towns:
            for tpl in data.BEAUTIFUL_TOWN_TASKS[: self.rng.randint(4, 6)]:
                name, cat, req, lead, coop, money, subs = tpl
                specs.append((name, cat, req, lead, coop, money, subs, town))
        return self._tasks(programme, "MLCZ", specs)

    def city_upgrade_tasks(self, programme: Programme) -> int:
        specs = []
        for street in [*self.streets, self.units["城关镇"]]:
            for name, cat, req, lead, coop, money, subs in data.CITY_UPGRADE_TASKS:
                if subs == "communities":
                    subs = [f"{c.name}老旧小区改造" for c in street.division.children.all()]
                specs.append((name, cat, req, lead, coop, money, subs, street))
        return self._tasks(programme, "CSTZ", specs)

    # ---- reports ----------------------------------------------------------------------
    def reports(self) -> None:
        tasks = list(Task.objects.filter(children__isnull=True).select_related("programme")
                     .prefetch_related("cooperations"))
        rows: list[ProgressReport] = []
        corrections: list[tuple[ProgressReport, ProgressReport]] = []
        for task in tasks:
            programme = task.programme
            periods = REPORT_QUARTERS if programme.reporting_cycle == "quarterly" else REPORT_MONTHS
            # most units keep pace (reports run a month behind today), some fall behind
            pace = self.rng.choice([0.5, 0.75, 1.1, 1.2, 1.25, 1.3, 1.35, 1.4])
            reporter = self.editors.get(task.lead_unit.code)
            plan = task.planned_total_investment * Decimal("0.8")
            last_pct = Decimal(0)
            for key in periods:
                period = progress.parse_period(key)
                if period.last_day < task.start_date:
                    continue
                share = progress.time_progress(task.start_date, task.due_date, period.last_day)
                pct = Decimal(min(100, round(share * 100 * pace + self.rng.uniform(-4, 4), 1)))
                pct = max(last_pct, pct).quantize(Decimal("0.01"))
                money = (plan * (pct - last_pct) / 100).quantize(Decimal("0.01"))
                last_pct = pct
                deadline = progress.reporting_deadline(period, programme.reporting_day)
                late = self.rng.random() < 0.1
                day = deadline + dt.timedelta(days=self.rng.randint(1, 6) if late
                                              else -self.rng.randint(0, 5))
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(
                    self.rng.randint(8, 17), self.rng.randint(0, 59))))
                report = ProgressReport(
                    task=task, period=key, reporting_unit=task.lead_unit, physical_progress=pct,
                    investment=money,
                    progress_text=f"已完成{task.name}形象进度{pct}%，本期完成投资"
                                  f"{(money / WAN).quantize(Decimal('0.01'))}万元",
                    problems=self.rng.choice(data.PROBLEMS) if pace < 1 else "",
                    next_steps=self.rng.choice(data.NEXT_STEPS),
                    coordination=self.rng.choice(data.COORDINATION) if pace < 1 else "",
                    reporter=reporter, reporter_name=reporter.full_name if reporter else "",
                    submitted_at=at,
                )
                if self.rng.random() < 0.05:
                    # a correction two days later supersedes the first figure
                    report.is_current = False
                    fixed = ProgressReport(**{
                        f.attname: getattr(report, f.attname)
                        for f in ProgressReport._meta.concrete_fields if f.attname != "id"
                    })
                    fixed.is_current = True
                    fixed.physical_progress = pct
                    report.physical_progress = max(Decimal(0), pct - 5)
                    fixed.submitted_at = at + dt.timedelta(days=2)
                    fixed.progress_text += "（更正）"
                    corrections.append((report, fixed))
                rows.append(report)
                for coop in list(task.cooperations.all())[:1]:
                    if self.rng.random() < 0.25:
                        rows.append(ProgressReport(
                            task=task, period=key, reporting_unit_id=coop.unit_id,
                            physical_progress=pct, investment=Decimal(0),
                            progress_text="配合完成相关审批与协调工作",
                            submitted_at=at, reporter=self.editors.get(coop.unit.code),
                        ))
            if last_pct >= 100 and task.due_date <= AS_OF:
                task.status = "completed" if self.rng.random() < 0.6 else "closed"
                task.save(update_fields=["status"])
        ProgressReport.objects.bulk_create(rows)
        for old, fixed in corrections:
            fixed.supersedes = old
        ProgressReport.objects.bulk_create([f for _, f in corrections])
        self.say(f"  进度报送 {len(rows) + len(corrections)} 条（其中更正 {len(corrections)} 条）")
