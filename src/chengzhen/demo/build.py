"""Builds the demo county 云溪县: divisions, units, people, three programmes, ~300 tasks and
six months of progress reports (some late, some superseded, some behind, some overdue).

Deterministic: one seeded random generator, consumed in a fixed order, and nothing that
depends on the database's ordering, so the data are the same on SQLite and PostgreSQL
(``fingerprint()`` proves it in the tests). Idempotent: nothing is done when the county's
government unit exists.

Everything goes through the tracked models, so the demo is in the audit chain like any
other data. History is written as history: report submission times (``submitted_at``) are
set directly on the model, as they were in the months before the demo's "today"
(``AS_OF``), so some reports are late. Only this loader does that; the service layer takes
the submission time from the server clock and never from input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

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
FEN = Decimal("0.01")
PROGRAMME_CODES = ("ZDZ2026", "MLCZ2026", "CSTZ2026")
ROLE_ORDER = ["admin", "supervisor", "leader", "unit_editor", "inspector"]


def exists() -> bool:
    return Unit.objects.filter(code=data.COUNTY[1]).exists()


def conflict() -> str | None:
    """Why the demo cannot be loaded into this database (other data in its way), or None."""
    codes = [data.COUNTY[1], *(c for c, _, _ in data.DEPARTMENTS)]
    taken = list(Unit.objects.filter(code__in=codes).values_list("code", flat=True)[:1])
    if taken:
        return f"单位代码 {taken[0]} 已被其他单位使用"
    taken = list(Programme.objects.filter(code__in=PROGRAMME_CODES).values_list("code", flat=True)[:1])
    if taken:
        return f"工作计划代码 {taken[0]} 已存在"
    if Division.objects.filter(code__in=[data.CITY[0], data.COUNTY[0]]).exists():
        return f"行政区划代码 {data.COUNTY[0]} 或 {data.CITY[0]} 已存在"
    if User.objects.filter(username="admin").exists():
        return "用户名 admin 已存在"
    return None


def logins() -> list[tuple[str, str, str, str]]:
    """(username, full name, role, unit) of the demo people: administrators, supervisors,
    leaders, liaisons, inspectors."""
    rows = []
    memberships = (Membership.objects.select_related("user", "user__unit", "unit")
                   .prefetch_related("programme_links__programme").filter(user__is_active=True))
    for m in memberships:
        role = m.get_role_display()
        limited = sorted(link.programme.name for link in m.programme_links.all())
        if limited:
            role += f"（限{'、'.join(limited)}）"
        rows.append(((ROLE_ORDER.index(m.role) if m.role in ROLE_ORDER else 99, m.user_id),
                     m.user.username, m.user.full_name, role,
                     (m.user.unit or m.unit).name))
    rows.sort(key=lambda r: r[0])  # by role, then in the order the people were created
    return [r[1:] for r in rows]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Lines of a plain-text table whose columns line up in a terminal (CJK counts double)."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True))
            .rstrip() for r in [header, *rows]]


def yuan(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass
class Leaf:
    """A task without sub-tasks, with the history the demo gives it."""

    task: Task
    coops: list[Unit]
    pace: float  # 形象进度 relative to 序时进度: below 1 falls behind
    stalled: bool  # should have started, has not (no reports)
    invest_factor: float  # completed investment relative to 形象进度
    history: list[tuple[str, Decimal]] = field(default_factory=list)  # (period, 形象进度 %)


class Builder:
    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.rng = random.Random(SEED)
        self.password = make_password(PASSWORD)  # hashed once: 60 hashes would take a minute
        self.units: dict[str, Unit] = {}
        self.towns: list[Unit] = []
        self.streets: list[Unit] = []
        self.communities: dict[str, list[str]] = {}  # town/street unit code -> community names
        self.editors: dict[str, User] = {}
        self.leaders: dict[str, str] = {}  # username -> "姓名（职务）"
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.leaves: list[Leaf] = []

    # ---- people -----------------------------------------------------------------------
    def name(self) -> str:
        while True:
            n = self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN)
            if n not in self.used_names:
                self.used_names.add(n)
                return n

    def phone(self) -> str:
        """A mobile number of the fictional 13x0000xxxx kind."""
        while True:
            p = f"13{self.rng.randint(0, 9)}0000{self.rng.randint(1000, 9999)}"
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

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
            for programme, maker in self.programmes():
                maker(programme)
            self.reports()
            self.supervision()
            self.profiles()
            self.assessment()
            self.joint_campaigns()

    def profiles(self) -> None:
        """The priority towns' profiles (对象属性) for 2026, the first year of their three-year
        cultivation period (培育期) — what the key-town framework's yearly targets depend on."""
        from chengzhen.assessment.models import SubjectProfile

        for town_name in data.PRIORITY_TOWNS:
            SubjectProfile.objects.create(unit=self.units[town_name], year=2026, attributes={"plan_year": "y1"})

    ROUND = "ZDZ-2026-10"

    def assessment(self) -> None:
        """One scored and published round for the key towns: 2026年1—10月重点镇建设考核 on the
        key-town framework (ZDZ@2026), each town's values submitted by its liaison and verified by
        duban02, the ledger and light measures gathered from the platform and verified by duban01,
        scored and published on 2026-11-16."""
        from django.utils import timezone

        from chengzhen.assessment import rounds
        from chengzhen.assessment.models import Value, ValueStatus

        duban01, duban02 = User.objects.get(username="duban01"), User.objects.get(username="duban02")
        towns = [self.units[name] for name in data.PRIORITY_TOWNS]
        r = rounds.create_round(
            duban01, code=self.ROUND, name="2026年1—10月优先发展重点镇建设考核", framework_name="ZDZ@2026",
            unit_codes=[t.code for t in towns], year=2026, period_from=dt.date(2026, 1, 1),
            period_to=dt.date(2026, 10, 31), submit_by=dt.date(2026, 11, 10), verify_by=dt.date(2026, 11, 13),
            programme=Programme.objects.get(code="ZDZ2026"), issuer="云溪县城镇化工作领导小组办公室",
            requirements="一、各镇要对照扣分项逐项分析原因，制定整改措施，于11月底前报县城镇化办。\n"
                         "二、考核等次为不合格的镇进入整改期，整改期满仍不达标的，按规定取消优先发展重点镇资格。")
        fw = rounds.framework(r)
        rng = self.rng
        for i, town in enumerate(towns):
            strength = 0.72 + 0.3 * (len(towns) - i) / len(towns)  # the first towns do better
            for node in fw.leaves():
                if node.measure:
                    continue
                amounts = self._demo_values(node, strength, rng)
                for inp in node.inputs:
                    amount = amounts[inp.code]
                    v = rounds.submit_value(self.editors[town.code], r, town, node.code, inp.code, amount,
                                            unit=inp.unit, evidence=node.evidence or "")
                    rounds.verify_value(duban02, v, accept=True, expected_version=v.version)
        rounds.gather_platform_values(duban01, r)
        for v in Value.objects.filter(round=r, status=ValueStatus.SUBMITTED):
            rounds.verify_value(duban01, v, accept=True, expected_version=v.version)
        self._round_calendar(r, towns)
        rounds.score_round(duban01, r)
        r = rounds.publish_round(duban01, rounds.round_of(r.code))
        published = timezone.make_aware(dt.datetime(2026, 11, 16, 9, 0))
        type(r).objects.filter(pk=r.pk).update(published_at=published)  # the demo's calendar, not today
        self.say(f"已完成并公布考核轮次 {r.code}（{len(towns)} 个重点镇，测评体系 {r.framework_version}）。")
        self._designations(duban01, towns, rounds.round_of(r.code))

    def _designations(self, duban01, towns, r) -> None:
        """The title 优先发展重点镇 held by the priority towns since the county's decision of
        January 2026, under the seed's rule (不合格 → 整改期, then 取消资格; the pass line of 60 and
        the six months are configurable defaults, not the seed's figures), reviewed against the
        published round: the towns graded 不合格 enter their rectification period."""
        from chengzhen.assessment import designation_services

        rule = designation_services.save_rule(
            duban01, code="YXFZZDZ", title="优先发展重点镇", framework_code="ZDZ",
            fail_grades=["不合格（限期整改）"], pass_score="60", rectify_months=6,
            note="达不到既定目标的重点镇，给一定的整改期，整改后仍达不到要求的，取消其优先发展重点镇资格。"
                 "（分数线、整改月数为可配置的默认值）")
        for town in towns:
            designation_services.grant(duban01, rule, town, granted_on=dt.date(2026, 1, 5),
                                       decision="云政发〔2026〕2号")
        done = designation_services.review_round(duban01, r)
        names = "、".join(e.designation.unit.short_name for e in done.changed)
        self.say(f"称号动态管理：{len(towns)} 个优先发展重点镇，进入整改期 {len(done.changed)} 个（{names}）。")
        self._fund(duban01, r)

    def _fund(self, duban01, r) -> None:
        """The seed's 6,800万元 for the priority towns, as 以奖代补 in proportion to the round's
        scores among the towns that passed (floor 500万, cap 1,500万: the demo's choice, not the
        seed's), to the fen."""
        from chengzhen.assessment import fund_services

        pool = fund_services.allocate_fund(
            duban01, code="YXFZZDZ-2026", name="2026年度优先发展重点镇以奖代补资金", amount="6800万", round=r,
            method="proportional", params={"eligible_grades": ["优秀", "良好", "合格"], "floor": "5000000",
                                           "cap": "15000000"})
        funded = pool.allocations.filter(amount__gt=0).count()
        self.say(f"奖补资金 {pool.code}：6,800万元按得分比例分配给 {funded} 个镇。")

    # city departments the shipped campaign frameworks name → the county units doing that work here
    CAMPAIGN_LEADS = {"市园林局": "ZJJ", "市城管局": "CGJ", "市城管局（环卫）": "CGJ", "市水务局": "SLJ",
                      "市生态环境局": "STHJ", "市卫健委": "WJW", "市卫生健康委": "WJW", "市住建局": "ZJJ",
                      "市市场监管局": "SCJGJ", "市文明办": "LGO", "市交通局": "JTJ", "市公安局": "GAJ"}

    def joint_campaigns(self) -> None:
        """Three title campaigns of the county (国家卫生城市, 国家园林城市, 全国文明城市 on the shipped
        frameworks), the county's profile for 2026 and their merged list LC-2026 (就高不就低), with
        the lead units settled where the frameworks' city departments have a county counterpart."""
        from chengzhen.assessment import campaign_services
        from chengzhen.assessment.models import SubjectProfile

        duban01 = User.objects.get(username="duban01")
        u = self.units
        gov = u["gov"]
        SubjectProfile.objects.create(unit=gov, year=2026, attributes={"population_band": "under_500k",
                                                                       "climate": "south"})
        codes = []
        for code, name, fw, title in (("CJWS2026", "创建国家卫生城市", "WSCS", "国家卫生城市"),
                                      ("CJYL2026", "创建国家园林城市", "YLCS", "国家园林城市"),
                                      ("CJWM2026", "创建全国文明城市", "WMCS", "全国文明城市")):
            p = Programme.objects.create(code=code, name=name, kind="joint_campaign", start_date=dt.date(2026, 1, 1),
                                         end_date=dt.date(2028, 12, 31), owner_unit=u["LGO"])
            campaign_services.bind_campaign(duban01, p, fw, title)
            codes.append(code)
        plan = campaign_services.run_plan(duban01, code="LC-2026", name="2026年六城联创合并指标清单",
                                          campaign_codes=codes, subject_code=gov.code, year=2026)
        settled = 0
        for ind in plan.indicators.filter(lead_unit__isnull=True).order_by("seq"):
            lead = u.get(self.CAMPAIGN_LEADS.get(ind.proposed_lead, ""))
            if lead is not None:
                campaign_services.settle_lead(duban01, ind, lead_unit=lead, cooperating=[],
                                              expected_version=ind.version)
                settled += 1
        self.say(f"六城联创：3 个创建活动合并为 {plan.indicators.count()} 项指标（LC-2026），"
                 f"确定牵头单位 {settled} 项。")

    @staticmethod
    def _round_calendar(r, towns) -> None:
        """The demo's calendar, not today: the towns submit on 3–9 November (枫林镇 a day after the
        10 November deadline, so the board shows a late submission), duban02 verifies on the 11th,
        the platform's values are gathered on the 11th and verified on the 12th."""
        from chengzhen.assessment.models import Value, ValueSource

        def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
            return timezone.make_aware(dt.datetime(2026, 11, day, hour, minute))

        for i, town in enumerate(towns):
            day = 11 if town.short_name == "枫林镇" else 3 + i % 7
            Value.objects.filter(round=r, subject=town, source=ValueSource.PERSON).update(
                submitted_at=at(day, 9, 10 + 4 * i), verified_at=at(11, 14, 5 * i))
        Value.objects.filter(round=r, source=ValueSource.PLATFORM).update(submitted_at=at(11, 8, 30),
                                                                          verified_at=at(12, 10))

    @staticmethod
    def _demo_values(node, strength: float, rng) -> dict[str, Decimal]:
        """Plausible values of one leaf for a key town: stronger towns come nearer the targets."""
        rule = node.rule_type
        if rule == "veto":
            return {"count": Decimal(0)}
        if rule == "bonus":
            return {"count": Decimal(rng.randint(0, 3) if strength > 0.8 else rng.randint(0, 1))}
        if rule == "deduction":
            return {"count": Decimal(rng.randint(0, 2) if strength > 0.8 else rng.randint(1, 5))}
        target = node.params.get("target", node.params.get("full_at", 100.0))
        if hasattr(target, "values"):  # by class: the first year's
            target = target.values.get("y1", next(iter(target.values.values())))
        if rule == "steps":
            target = node.params["steps"][0][0]
        value = float(target) * min(1.05, strength * rng.uniform(0.85, 1.1))
        if node.unit == "%":
            value = min(value, 100.0)
        if node.formula is not None:
            denominator = Decimal(rng.randint(20, 60) * 100)
            numerator = denominator * Decimal(f"{value:.4f}") / Decimal(str(node.formula.scale))
            return {"numerator": numerator.quantize(Decimal("0.01")), "denominator": denominator}
        if node.unit in ("项", "个", "户", "座", "处", "起", "人"):  # things counted are whole
            return {node.inputs[0].code: Decimal(round(value))}
        return {node.inputs[0].code: Decimal(f"{value:.2f}")}

    BULLETIN_MONTH = "2026-10"  # the last month the demo's reports cover

    def supervision(self) -> None:
        """The key-town programme's lights as the nightly run of 31 October left them, its
        monthly bulletin settings and the October bulletin, issued on 3 November (第1期)."""
        from chengzhen.supervision import bulletins
        from chengzhen.supervision.models import BulletinSetting
        from chengzhen.supervision.recompute import recompute

        programme = Programme.objects.get(code="ZDZ2026")
        month = progress.parse_period(self.BULLETIN_MONTH)
        recompute(programme=programme, today=month.last_day, trigger="demo")
        BulletinSetting.objects.create(
            programme=programme, cycle="monthly", masthead="重点镇建设工作通报",
            recipient="各镇人民政府，县直有关单位",
            requirements="一、各镇要对照亮灯任务逐项分析原因，明确整改措施和完成时限。\n"
                         "二、各责任单位要按时报送进度，如实反映存在问题和需协调事项。\n"
                         "三、县城镇化办将对滞后、逾期任务跟踪督办，整改不力的予以约谈。")
        from chengzhen.org.models import system_user

        system = system_user()
        draft = bulletins.generate(system, programme, month.first_day, month.last_day,
                                   today=month.last_day + dt.timedelta(days=3))
        bulletins.issue(system, draft, expected_version=draft.version,
                        issued_on=month.last_day + dt.timedelta(days=3))
        self.say("已生成并签发2026年10月重点镇建设工作通报（第1期）。")

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
        communities = iter(self.rng.sample(data.COMMUNITY_NAMES, len(data.COMMUNITY_NAMES)))
        below: list[Division] = []
        for seg, name, kind in data.TOWNS:
            code = data.COUNTY[1] + seg + "000"
            div = Division.objects.create(code=code, name=name, level="town", parent=county)
            unit = Unit.objects.create(
                code=code, name=name + ("办事处" if kind == "street" else "人民政府"),
                short_name=name, kind=kind, division=div, parent=gov,
            )
            (self.streets if kind == "street" else self.towns).append(unit)
            self.units[name] = unit
            # statistical codes: 001–199 居民委员会 (社区), 200–399 村民委员会 (村)
            if kind == "street":
                comms = [next(communities) + "社区" for _ in range(self.rng.randint(4, 6))]
                n_villages = self.rng.randint(0, 2)
            else:
                comms = [name.removesuffix("镇") + "社区"]  # the town seat
                n_villages = self.rng.randint(4, 7)
            self.communities[code] = comms
            subs = [(f"{i:03d}", c) for i, c in enumerate(comms, start=1)]
            subs += [(f"{200 + i:03d}", next(villages) + "村") for i in range(1, n_villages + 1)]
            below += [Division(code=data.COUNTY[1] + seg + s, name=n, level="village", parent=div)
                      for s, n in subs]
        Division.objects.bulk_create(below)
        n_div = Division.objects.filter(code__startswith=data.COUNTY[1]).count() + 1
        self.say(f"  行政区划 {n_div} 个（镇街 {len(data.TOWNS)} 个，村/社区 {len(below)} 个），"
                 f"单位 {Unit.objects.filter(path__startswith=gov.path).count()} 个")

    def people(self) -> None:
        u = self.units
        admin = User(username="admin", full_name="系统管理员", unit=u["gov"], is_staff=True,
                     is_superuser=True, password=self.password)
        admin.save()
        Membership.objects.create(user=admin, role="admin", unit=u["gov"])
        # the office supervises the whole county: its role covers the government's subtree
        self.person("duban01", "supervisor", u["LGO"], scope=u["gov"], is_staff=True)
        self.person("duban02", "supervisor", u["LGO"], scope=u["gov"], is_staff=True)
        self.person("ducha01", "supervisor", u["DCS"], scope=u["gov"], is_staff=True)
        for username, title, kinds in data.LEADERS:
            leader = self.person(username, "leader", u["gov"])
            self.leaders[username] = f"{leader.full_name}（{title}）"
            for kind in kinds:
                self.leaders[kind] = self.leaders[username]
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
        self.say(f"  人员 {User.objects.filter(is_active=True).count()} 名，"
                 f"授权 {Membership.objects.count()} 条")

    def programmes(self):
        u = self.units
        key = Programme.objects.create(
            code="ZDZ2026", name="2026年重点镇建设", kind="key_town",
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2028, 12, 31), owner_unit=u["LGO"],
            reporting_day=25,
            description="集中力量建设8个优先发展重点镇，力争通过2—3年时间镇区常住人口达到3万人以上，"
                        "建成区（县）域经济新的支撑点；实行目标管理、年度考核、动态管理",
        )
        beauty = Programme.objects.create(
            code="MLCZ2026", name="2026年美丽城镇建设", kind="beautiful_town",
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), owner_unit=u["LGO"],
            reporting_cycle="quarterly", reporting_day=25,
            description="建制镇（城关镇除外）对标“五美”和城乡融合体制机制要求，挂图作战，按季结账通报",
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
        for town in self.beautiful_towns():
            for dim in ("环境美", "生活美", "产业美", "人文美", "治理美"):
                Target.objects.create(programme=beauty, level="annual", year=2026,
                                      name=f"{dim}达标", subject_unit=town, value=Decimal(80),
                                      measure_unit="分", due_date=dt.date(2026, 12, 31))
        for town in self.beautiful_towns()[:3]:
            Target.objects.create(programme=beauty, level="overall", name="创成省级美丽城镇样板",
                                  subject_unit=town, value=Decimal(1), measure_unit="个",
                                  due_date=dt.date(2026, 12, 31))
        county_div = u["gov"].division
        for name, value, unit, due in (
            ("2000年前建成老旧小区改造完成率", 100, "%", dt.date(2027, 6, 30)),
            ("既有住宅加装电梯", 40, "部", dt.date(2026, 12, 31)),
            ("小区物业管理覆盖率", 100, "%", dt.date(2026, 12, 31)),
            ("新增充电桩", 600, "个", dt.date(2026, 12, 31)),
            ("居民满意度", 90, "%", dt.date(2027, 6, 30)),
        ):
            Target.objects.create(programme=upgrade, level="overall", name=name,
                                  subject_division=county_div, value=Decimal(value),
                                  measure_unit=unit, due_date=due)
        # one liaison limited to one programme, to show programme-limited memberships
        m = Membership.objects.get(user__username="lly04b")
        MembershipProgramme.objects.create(membership=m, programme=key)
        self.say(f"  工作计划 3 个，阶段 {Phase.objects.count()} 个，目标 {Target.objects.count()} 项")
        return [(key, self.key_town_tasks), (beauty, self.beautiful_town_tasks),
                (upgrade, self.city_upgrade_tasks)]

    def beautiful_towns(self) -> list[Unit]:
        """Every town but the county seat (城关镇), as the 美丽城镇 rules have it."""
        return [t for t in self.towns if t.short_name != "城关镇"]

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

    def _money(self, lo: int, hi: int) -> Decimal:
        """A planned investment between lo and hi 万元: mostly whole 百元, some to the fen."""
        amount = Decimal(self.rng.randint(lo * 100, hi * 100)) * 100
        if self.rng.random() < 0.2:
            amount += Decimal(self.rng.randint(0, 999999)) / 100
        return amount

    def _unit(self, code: str, town: Unit) -> Unit:
        return town if code in ("town", "street") else self.units[code]

    def _leader(self, programme: Programme, invest: Decimal) -> str:
        if invest >= 8000 * WAN:  # the biggest projects are the county head's own
            return self.leaders["xianzhang"]
        return self.leaders[programme.kind]

    def _responsible(self, lead_unit: Unit) -> tuple[str, str, User | None]:
        """具体责任人: mostly the lead unit's liaison (linked to the account), else a colleague."""
        editor = self.editors.get(lead_unit.code)
        if editor is not None and self.rng.random() < 0.6:
            return editor.full_name, editor.phone, editor
        return self.name(), self.phone(), None

    def _history(self, programme: Programme, start: dt.date, due: dt.date,
                 status: str) -> Leaf:
        """A leaf's pace and its 形象进度 period by period (the task is attached later)."""
        stalled = status == "in_progress" and self.rng.random() < 0.04
        pace = self.rng.choice([0.5, 0.75, 1.1, 1.2, 1.25, 1.3, 1.35, 1.4])
        leaf = Leaf(task=None, coops=[], pace=pace, stalled=stalled,  # type: ignore[arg-type]
                    invest_factor=self.rng.uniform(0.7, 1.0))
        if status != "in_progress" or stalled:
            return leaf
        periods = REPORT_QUARTERS if programme.reporting_cycle == "quarterly" else REPORT_MONTHS
        last = Decimal(0)
        for key in periods:
            period = progress.parse_period(key)
            if period.last_day < start:
                continue
            # the figure as of the reporting day, with the month to the next report ahead of it
            as_of = progress.reporting_deadline(period, programme.reporting_day)
            share = progress.time_progress(start, due, as_of + dt.timedelta(days=30))
            pct = Decimal(min(100, round(share * 100 * pace + self.rng.uniform(-4, 4), 1)))
            pct = max(last, pct, Decimal(1)).quantize(FEN)
            leaf.history.append((key, pct))
            last = pct
            if pct >= 100:
                break  # finished: no more reports
        return leaf

    def _status(self, leaf: Leaf, due: dt.date, status: str) -> str:
        if leaf.history and leaf.history[-1][1] >= 100:
            return "closed" if due <= AS_OF and self.rng.random() < 0.4 else "completed"
        return "not_started" if leaf.stalled else status

    def _tasks(self, programme: Programme, prefix: str, specs) -> None:
        """specs: (name, category, requirement, lead, coop, (lo, hi), subs, town)."""
        parents: list[tuple[Task, list[Unit]]] = []
        kids: list[list[tuple[Task, Leaf]]] = []
        for seq, (name, category, requirement, lead, coop, (lo, hi), subs, town) in enumerate(
                specs, start=1):
            lead_unit = self._unit(lead, town)
            start, due = self._dates(programme)
            invest = self._money(lo, hi)
            status = "not_started" if start > AS_OF else "in_progress"
            person, phone, user = self._responsible(lead_unit)
            opening = Decimal(0)
            if start < dt.date(2026, 4, 1) and self.rng.random() < 0.25:
                opening = yuan(invest * Decimal(self.rng.randint(5, 20)) / 100)
            task = Task(
                programme=programme, code=f"{prefix}-{seq:03d}", seq=seq,
                name=f"{town.short_name}{name}", category=category, requirement=requirement,
                responsible_leader=self._leader(programme, invest), lead_unit=lead_unit,
                responsible_person=person, responsible_phone=phone, responsible_user=user,
                start_date=start, due_date=due, planned_total_investment=invest,
                status=status,
            )
            coops = [c for c in (self._unit(c, town) for c in coop) if c != lead_unit]
            parents.append((task, coops))
            children: list[tuple[Task, Leaf]] = []
            if subs:
                span = (due - start).days
                shares = [self.rng.randint(2, 6) for _ in subs]
                left = invest
                for j, sub in enumerate(subs, start=1):
                    amount = left if j == len(subs) else yuan(invest * shares[j - 1] / sum(shares))
                    left -= amount
                    c_start = start + dt.timedelta(days=span * (j - 1) // (2 * len(subs)))
                    c_due = due - dt.timedelta(days=span * (len(subs) - j) // (3 * len(subs)))
                    child = Task(
                        programme=programme, code=f"{task.code}-{j}", seq=seq, name=sub,
                        category=category, requirement=f"{task.name}：{sub}",
                        responsible_leader=task.responsible_leader, lead_unit=lead_unit,
                        responsible_person=person, responsible_phone=phone,
                        responsible_user=user, start_date=c_start, due_date=c_due,
                        planned_total_investment=amount,
                        status="not_started" if c_start > AS_OF else "in_progress",
                    )
                    leaf = self._history(programme, c_start, c_due, child.status)
                    child.status = self._status(leaf, c_due, child.status)
                    leaf.task, leaf.coops = child, coops
                    children.append((child, leaf))
                done = [c.status for c, _ in children]
                task.status = ("completed" if all(s in ("completed", "closed") for s in done)
                               else "not_started" if all(s == "not_started" for s in done)
                               else "in_progress")
            else:
                task.opening_completed_investment = opening
                leaf = self._history(programme, start, due, status)
                task.status = self._status(leaf, due, status)
                leaf.task, leaf.coops = task, coops
                self.leaves.append(leaf)
            kids.append(children)
        Task.objects.bulk_create([t for t, _ in parents])
        for (parent, _), children in zip(parents, kids, strict=True):
            for child, leaf in children:
                child.parent = parent
                self.leaves.append(leaf)
        all_children = [c for children in kids for c, _ in children]
        Task.objects.bulk_create(all_children)
        Cooperation.objects.bulk_create(
            [Cooperation(task=t, unit=c, seq=i) for t, coops in parents for i, c in enumerate(coops)]
            + [Cooperation(task=c, unit=u, seq=i) for children, (_, coops) in zip(kids, parents,
               strict=True) for c, _ in children for i, u in enumerate(coops)]
        )
        plans: list[AnnualPlan] = []
        for (parent, _), children in zip(parents, kids, strict=True):
            mine = [self._annual_plans(c) for c, _ in children] or [self._annual_plans(parent)]
            plans += [p for ps in mine for p in ps]
            if children:  # the parent's row shows its children's sums, year by year
                years: dict[int, Decimal] = {}
                for p in (p for ps in mine for p in ps):
                    years[p.year] = years.get(p.year, Decimal(0)) + p.amount
                plans += [AnnualPlan(task=parent, year=y, amount=a) for y, a in sorted(years.items())]
        AnnualPlan.objects.bulk_create(plans)
        n = len(parents) + len(all_children)
        self.say(f"  {programme.name}：{n} 项任务（其中子任务 {len(all_children)} 项）")

    def _annual_plans(self, task: Task) -> list[AnnualPlan]:
        """年度计划投资: what is left after the opening amount, spread over the years by days."""
        rest = task.planned_total_investment - task.opening_completed_investment
        first = max(task.start_date, dt.date(2026, 1, 1))
        years = range(first.year, task.due_date.year + 1)
        days = {y: (min(task.due_date, dt.date(y, 12, 31)) - max(first, dt.date(y, 1, 1))).days + 1
                for y in years}
        total_days = sum(days.values())
        out, left = [], rest
        for i, y in enumerate(years):
            amount = left if i == len(years) - 1 else yuan(rest * days[y] / total_days)
            left -= amount
            out.append(AnnualPlan(task=task, year=y, amount=amount))
        return out

    def key_town_tasks(self, programme: Programme) -> None:
        specs = []
        for town_name in data.PRIORITY_TOWNS:
            town = self.units[town_name]
            for tpl in self.rng.sample(data.KEY_TOWN_TASKS, 10):
                specs.append((*tpl, town))
        self._tasks(programme, "ZDZ", specs)

    def beautiful_town_tasks(self, programme: Programme) -> None:
        specs = []
        for town in self.beautiful_towns():
            for tpl in data.BEAUTIFUL_TOWN_TASKS[: self.rng.randint(4, 6)]:
                specs.append((*tpl, town))
        self._tasks(programme, "MLCZ", specs)

    def city_upgrade_tasks(self, programme: Programme) -> None:
        specs = []
        for street in [*self.streets, self.units["城关镇"]]:
            for name, cat, req, lead, coop, money, subs in data.CITY_UPGRADE_TASKS:
                if subs == "communities":
                    subs = [f"{c}老旧小区改造" for c in self.communities[street.code]]
                specs.append((name, cat, req, lead, coop, money, subs, street))
        self._tasks(programme, "CSTZ", specs)

    # ---- time nodes and reports ---------------------------------------------------------
    def _nodes(self, leaf: Leaf) -> list[TimeNode]:
        """Milestones spread over the task; finished tasks have done them all."""
        task = leaf.task
        span = (task.due_date - task.start_date).days
        names = data.NODE_NAMES[-self.rng.randint(2, 4):]
        finished = task.status in ("completed", "closed")
        end = (progress.reporting_deadline(progress.parse_period(leaf.history[-1][0]), 25)
               if finished else AS_OF)
        out: list[TimeNode] = []
        previous, missed = task.start_date, False
        for i, name in enumerate(names):
            planned = task.start_date + dt.timedelta(days=span * (i + 1) // (len(names) + 1))
            done = None
            if finished:
                done = min(planned, end) - dt.timedelta(days=self.rng.randint(0, 10))
            elif leaf.stalled or missed:
                done = None  # a node is not done before the one ahead of it
            elif planned < AS_OF and self.rng.random() < (0.85 if leaf.pace >= 1 else 0.4):
                done = min(planned + dt.timedelta(days=self.rng.randint(-5, 12)), AS_OF)
            else:
                missed = True
            if done is not None:
                done = previous = max(done, previous)
            out.append(TimeNode(task=task, seq=i + 1, name=name, planned_date=planned,
                                done_on=done))
        return out

    @staticmethod
    def _situation(nodes: list[TimeNode], day: dt.date) -> str:
        done = [n for n in nodes if n.done_on and n.done_on <= day]
        parts = [data.NODE_PHRASES[done[-1].name][0]] if done else []
        todo = [n for n in nodes if not (n.done_on and n.done_on <= day)]
        if todo:
            parts.append(data.NODE_PHRASES[todo[0].name][1])
        return "，".join(parts)

    def reports(self) -> None:
        nodes: list[TimeNode] = []
        rows: list[ProgressReport] = []
        corrections: list[tuple[ProgressReport, ProgressReport]] = []
        for leaf in self.leaves:
            task = leaf.task
            mine = self._nodes(leaf)
            nodes += mine
            programme = task.programme
            quarterly = programme.reporting_cycle == "quarterly"
            reporter = self.editors.get(task.lead_unit.code)
            base = task.planned_total_investment - task.opening_completed_investment
            last_pct, cumulative = Decimal(0), task.opening_completed_investment
            for key, pct in leaf.history:
                period = progress.parse_period(key)
                money = yuan(base * (pct - last_pct) / 100 * Decimal(str(round(leaf.invest_factor, 2))))
                cumulative += money
                last_pct = pct
                deadline = progress.reporting_deadline(period, programme.reporting_day)
                late = self.rng.random() < 0.1
                day = deadline + dt.timedelta(days=self.rng.randint(1, 6) if late
                                              else -self.rng.randint(0, 5))
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(
                    self.rng.randint(8, 17), self.rng.randint(0, 59))))
                behind = pct < Decimal(progress.time_progress(
                    task.start_date, task.due_date, period.last_day) * 100)
                report = ProgressReport(
                    task=task, period=key, reporting_unit=task.lead_unit, physical_progress=pct,
                    investment=money,
                    progress_text=(f"{self._situation(mine, period.last_day)}。形象进度{pct:.0f}%，"
                                   f"{'本季度' if quarterly else '本月'}完成投资{money / WAN:.2f}万元，"
                                   f"累计完成投资{cumulative / WAN:.2f}万元。"),
                    problems=self.rng.choice(data.PROBLEMS) if behind else "",
                    next_steps=self.rng.choice(data.NEXT_STEPS),
                    coordination=self.rng.choice(data.COORDINATION) if behind else "",
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
                    report.physical_progress = max(Decimal(0), pct - 5)
                    fixed.submitted_at = at + dt.timedelta(days=2)
                    fixed.progress_text += "（更正：形象进度填报有误）"
                    corrections.append((report, fixed))
                rows.append(report)
                for coop in leaf.coops[:1]:
                    if self.rng.random() < 0.25:
                        helper = self.editors.get(coop.code)
                        extra = (yuan(money * Decimal(self.rng.randint(5, 20)) / 100)
                                 if self.rng.random() < 0.2 else Decimal(0))
                        rows.append(ProgressReport(
                            task=task, period=key, reporting_unit=coop, physical_progress=pct,
                            investment=extra, progress_text=self.rng.choice(data.COOP_TEXTS),
                            reporter=helper, reporter_name=helper.full_name if helper else "",
                            submitted_at=at + dt.timedelta(hours=self.rng.randint(1, 30)),
                        ))
        TimeNode.objects.bulk_create(nodes)
        self.say(f"  时间节点 {len(nodes)} 个（已完成 {sum(1 for n in nodes if n.done_on)} 个）")
        ProgressReport.objects.bulk_create(rows)
        for old, fixed in corrections:
            fixed.supersedes = old
        ProgressReport.objects.bulk_create([f for _, f in corrections])
        self.say(f"  进度报送 {len(rows) + len(corrections)} 条（其中更正 {len(corrections)} 条）")


# ---- the same data everywhere -------------------------------------------------------------

def _plain(value) -> object:
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def fingerprint() -> str:
    """A digest of the demo's data by natural keys (codes, usernames), never by ids or by the
    database's ordering: equal digests mean equal data, e.g. on SQLite and on PostgreSQL."""
    queries = {
        "division": Division.objects.values_list("code", "gb2260", "name", "level", "parent__code"),
        "unit": Unit.objects.values_list("code", "name", "short_name", "kind", "division__code",
                                         "parent__code", "path"),
        "user": User.objects.values_list("username", "full_name", "phone", "unit__code",
                                         "is_active", "is_staff", "is_superuser"),
        "membership": Membership.objects.values_list("user__username", "role", "unit__code"),
        "membership_programme": MembershipProgramme.objects.values_list(
            "membership__user__username", "membership__role", "programme__code"),
        "programme": Programme.objects.values_list(
            "code", "name", "kind", "start_date", "end_date", "owner_unit__code",
            "reporting_cycle", "reporting_day", "description"),
        "phase": Phase.objects.values_list("programme__code", "seq", "name", "start_date",
                                           "end_date"),
        "target": Target.objects.values_list(
            "programme__code", "phase__seq", "level", "year", "name", "subject_division__code",
            "subject_unit__code", "value", "measure_unit", "due_date"),
        "task": Task.objects.values_list(
            "programme__code", "code", "seq", "name", "category", "requirement",
            "responsible_leader", "lead_unit__code", "responsible_person", "responsible_phone",
            "responsible_user__username", "start_date", "due_date", "weight",
            "planned_total_investment", "opening_completed_investment", "status", "notes",
            "parent__code"),
        "cooperation": Cooperation.objects.values_list("task__programme__code", "task__code",
                                                       "unit__code", "seq"),
        "annual_plan": AnnualPlan.objects.values_list("task__programme__code", "task__code",
                                                      "year", "amount"),
        "time_node": TimeNode.objects.values_list("task__programme__code", "task__code", "seq",
                                                  "name", "planned_date", "done_on"),
        "report": ProgressReport.objects.values_list(
            "task__programme__code", "task__code", "period", "reporting_unit__code",
            "physical_progress", "investment", "progress_text", "problems", "next_steps",
            "coordination", "reporter__username", "reporter_name", "submitted_at", "is_current",
            "supersedes__submitted_at"),
    }
    from chengzhen.assessment.models import SubjectProfile, SubjectScore, Value

    queries["subject_profile"] = SubjectProfile.objects.values_list("unit__code", "year", "attributes")
    queries["round_value"] = Value.objects.values_list("round__code", "subject__code", "node", "input", "amount",
                                                       "unit", "status", "source", "submitted_by__username",
                                                       "submitted_at", "verified_by__username", "verified_at")
    queries["subject_score"] = SubjectScore.objects.values_list("scoring__label", "subject", "total", "grade", "rank",
                                                                "vetoed", "prerequisite_failed")
    from chengzhen.assessment.models import Designation

    queries["designation"] = Designation.objects.values_list("rule__code", "unit__code", "state", "granted_on",
                                                             "decision", "rectify_until", "revoked_on")
    from chengzhen.assessment.models import FundAllocation

    queries["fund_allocation"] = FundAllocation.objects.values_list("pool__code", "unit__code", "amount", "basis")
    from chengzhen.assessment.models import MergedIndicator

    queries["merged_indicator"] = MergedIndicator.objects.values_list("plan__code", "key", "seq", "binding", "conflict",
                                                                      "lead_unit__code", "deadline")
    digest = hashlib.sha256()
    for name, qs in queries.items():
        # sort_keys: PostgreSQL's jsonb keeps a mapping's keys in its own order
        rows = sorted(json.dumps([_plain(v) for v in row], ensure_ascii=False, sort_keys=True) for row in qs)
        digest.update(f"{name}:{len(rows)}\n".encode())
        for row in rows:
            digest.update(row.encode() + b"\n")
    return digest.hexdigest()
