from pathlib import Path

from django.utils import timezone

from chengzhen.commands import NounCommand
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme

from ... import campaign_services, joint_services
from ...joint import LeadRule
from ...joint_workbook import write_merged_xlsx


class Command(NounCommand):
    help = ("六城联创（joint）：merge --frameworks CODE,CODE… [--subject CODE --year YYYY] -o FILE.xlsx "
            "把多个创建的测评体系合并为一张指标表（就高不就低），写出合并矩阵和门槛明细；campaign 把工作计划绑定到"
            "测评体系；plan 合并并保存清单；rerun 重新合并（--preview 预览变化）；matches 确认或否定匹配；"
            "tasks 由清单生成台账任务。")
    noun = "joint"

    def add_verbs(self, sub) -> None:
        mg = sub.add_parser(
            "merge", help="合并测评体系：每个规范指标一行，列出各创建的门槛、约束门槛、牵头与配合单位、冲突"
        )
        mg.add_argument("--frameworks", required=True, metavar="CODE[@VERSION],…",
                        help="参与合并的测评体系（逗号分隔；同一体系只能选一个版本）")
        mg.add_argument("--subject", metavar="CODE", help="创建对象的单位代码（按其对象属性取按类别的门槛）")
        mg.add_argument("--year", type=int, metavar="YYYY", help="对象属性的年度（默认：今年）")
        mg.add_argument("--precedence", metavar="部门,部门…",
                        help="牵头单位按此优先顺序确定（默认：约束门槛所属创建的责任部门牵头）")
        mg.add_argument("-o", dest="output", metavar="FILE.xlsx", required=True)
        cp = sub.add_parser("campaign", help="把工作计划绑定到测评体系版本（创建活动）")
        cp.add_argument("programme", metavar="PROGRAMME", help="工作计划代码")
        cp.add_argument("--framework", required=True, metavar="CODE[@VERSION]")
        cp.add_argument("--title", required=True, help="创建称号，如 国家卫生城市")
        self.add_as(cp)
        pl = sub.add_parser("plan", help="合并创建活动并保存为清单（再次执行即重新合并，已确定的牵头单位不变）")
        pl.add_argument("code", metavar="CODE")
        pl.add_argument("--name", required=True)
        pl.add_argument("--campaigns", required=True, metavar="PROGRAMME,…", help="创建活动（工作计划代码）")
        pl.add_argument("--subject", metavar="CODE")
        pl.add_argument("--year", type=int, metavar="YYYY")
        pl.add_argument("--precedence", metavar="部门,部门…")
        self.add_as(pl)
        rr = sub.add_parser("rerun", help="按清单原有的创建活动、对象和规则重新合并（--preview 只列出变化）")
        rr.add_argument("plan", metavar="PLAN")
        rr.add_argument("--preview", action="store_true")
        self.add_as(rr)
        mt = sub.add_parser("matches", help="列出待确认的指标匹配；--confirm ID / --reject ID 处理一项")
        mt.add_argument("--confirm", type=int, metavar="ID")
        mt.add_argument("--reject", type=int, metavar="ID")
        self.add_as(mt)
        tk = sub.add_parser("tasks", help="由清单生成台账任务（--preview 只预览）；被人修改过的任务不覆盖")
        tk.add_argument("plan", metavar="PLAN")
        tk.add_argument("--programme", required=True, metavar="CODE", help="生成任务的工作计划")
        tk.add_argument("--preview", action="store_true")
        tk.add_argument("--per", choices=list(campaign_services.TASK_GROUPINGS), default="indicator",
                        help="indicator：每个合并指标一项任务（默认）；lead_unit：同一牵头单位的指标归并为一项任务（职责归口）")
        self.add_as(tk)

    def verb_merge(self, user=None, **options) -> None:
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise Refused([Problem(file=str(output), reason="输出文件应为 .xlsx")])
        if not output.parent.is_dir():
            raise Refused([Problem(file=str(output), reason="输出目录不存在")])
        precedence = tuple(d.strip() for d in (options.get("precedence") or "").split(",") if d.strip())
        rule = LeadRule("precedence", precedence) if precedence else LeadRule()
        subject = options.get("subject")
        year = options.get("year") or (timezone.localdate().year if subject else None)
        merged = joint_services.merge_frameworks(
            options["frameworks"].split(","), subject_code=subject, year=year, lead_rule=rule,
            confirmed=campaign_services.confirmed_matches())
        write_merged_xlsx(merged, output, timezone.localdate())
        who = f"对象 {subject}（{year} 年度）" if subject else "未指定对象（按类别列出）"
        self.stdout.write(
            f"已合并 {len(merged.campaigns)} 个创建（{'、'.join(c.name for c in merged.campaigns)}），{who}：\n"
            f"合并指标 {len(merged.rows)} 项（多个创建共有 {merged.shared} 项），"
            f"约束门槛 {merged.binding_count} 项，冲突 {merged.conflicts} 项\n{output}"
        )

    def verb_campaign(self, user=None, **options) -> None:
        programme = Programme.objects.filter(code=options["programme"]).first()
        if programme is None:
            raise Refused([Problem(column="PROGRAMME", reason=f"没有代码为 {options['programme']} 的工作计划")])
        c = campaign_services.bind_campaign(user, programme, options["framework"], options["title"])
        self.stdout.write(f"已绑定 {programme.code}（{c.title}）→ {c.framework_version}")

    def verb_plan(self, user=None, **options) -> None:
        precedence = [d.strip() for d in (options.get("precedence") or "").split(",") if d.strip()]
        rule = {"kind": "precedence" if precedence else "binding", "precedence": precedence}
        subject = options.get("subject")
        year = options.get("year") or (timezone.localdate().year if subject else None)
        plan = campaign_services.run_plan(user, code=options["code"], name=options["name"],
                                          campaign_codes=[c.strip() for c in options["campaigns"].split(",")
                                                          if c.strip()],
                                          subject_code=subject, year=year, lead_rule=rule)
        rows = list(plan.indicators.all())
        self.stdout.write(f"已合并 {plan.code}：合并指标 {len(rows)} 项，冲突 {sum(1 for r in rows if r.conflict)} 项，"
                          f"待确定牵头单位 {sum(1 for r in rows if r.lead_unit_id is None)} 项")

    def verb_rerun(self, user=None, **options) -> None:
        from ...models import JointPlan

        plan = JointPlan.objects.filter(code=options["plan"]).first()
        if plan is None:
            raise Refused([Problem(column="PLAN", reason=f"没有联创合并清单 {options['plan']}")])
        if not options["preview"]:
            plan = campaign_services.rerun_plan(user, plan)
            self.stdout.write(f"已重新合并 {plan.code}：合并指标 {plan.indicators.count()} 项")
            return
        names = {"new": "新增", "changed": "变化", "same": "不变", "removed": "移除", "kept": "保留"}
        changes = campaign_services.rerun_preview(user, plan)
        for c in changes:
            if c.action != "same":
                self.stdout.write(f"{names[c.action]}\t{c.key}\t{c.name}\t{'；'.join(c.changes)}")
        counts = {k: sum(1 for c in changes if c.action == k) for k in names}
        self.stdout.write("预览：" + "，".join(f"{names[k]} {n}" for k, n in counts.items()))

    def verb_matches(self, user=None, **options) -> None:
        from ...models import MatchStatus, MeasureMatch

        chosen = options.get("confirm") or options.get("reject")
        if chosen:
            match = MeasureMatch.objects.filter(pk=chosen).first()
            if match is None:
                raise Refused([Problem(column="ID", reason=f"没有编号为 {chosen} 的指标匹配")])
            done = campaign_services.decide_match(user, match, confirm=bool(options.get("confirm")),
                                                  expected_version=match.version)
            self.stdout.write(f"{done.get_status_display()}：{done.indicator_name} → {done.measure}")
            return
        for m in MeasureMatch.objects.filter(status=MatchStatus.PROPOSED).select_related("framework"):
            self.stdout.write(f"{m.pk}\t{m.framework.code}\t{m.node}\t{m.indicator_name}\t{m.measure}\t"
                              f"{m.score:.2f}\t{'；'.join(m.evidence)}")

    def verb_tasks(self, user=None, **options) -> None:
        from ...models import JointPlan

        plan = JointPlan.objects.filter(code=options["plan"]).first()
        if plan is None:
            raise Refused([Problem(column="PLAN", reason=f"没有联创合并清单 {options['plan']}")])
        programme = Programme.objects.filter(code=options["programme"]).first()
        if programme is None:
            raise Refused([Problem(column="--programme", reason=f"没有代码为 {options['programme']} 的工作计划")])
        per = options["per"]
        steps = (campaign_services.task_preview(user, plan, programme, per=per) if options["preview"]
                 else campaign_services.make_tasks(user, plan, programme, per=per))
        names = {"create": "新建", "update": "更新", "keep": "保持", "skip": "跳过"}
        for step in steps:
            self.stdout.write(f"{names[step.action]}\t{step.key}\t{step.name}\t{step.reason}")
        counts = {k: sum(1 for s in steps if s.action == k) for k in names}
        verb = "预览" if options["preview"] else "已生成"
        self.stdout.write(f"{verb}：新建 {counts['create']}，更新 {counts['update']}，保持 {counts['keep']}，"
                          f"跳过 {counts['skip']}")
