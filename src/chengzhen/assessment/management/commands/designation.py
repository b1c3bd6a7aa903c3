from chengzhen.commands import NounCommand
from chengzhen.org.models import Unit
from chengzhen.problems import Problem, Refused

from ... import designation_services as services
from ... import rounds
from .round import _date


class Command(NounCommand):
    help = ("称号动态管理（designation）：rule CODE 设定规则；grant RULE UNIT 按决定授予；review ROUND 按已公布的"
            "考核结果动态管理；list 列出（--at-risk 只列整改期内的）。")
    noun = "designation"

    def add_verbs(self, sub) -> None:
        rule = sub.add_parser("rule", help="设定（或修改）动态管理规则")
        rule.add_argument("code", metavar="CODE")
        rule.add_argument("--title", required=True, help="称号，如 优先发展重点镇")
        rule.add_argument("--framework", default="", metavar="CODE", help="按哪个测评体系的考核结果（省略为任意）")
        rule.add_argument("--fail-grade", action="append", default=[], metavar="等次",
                          help="不达标的等次（可重复），如 不合格")
        rule.add_argument("--pass-score", metavar="分", help="达标分数线：总分低于此线为不达标")
        rule.add_argument("--months", type=int, default=6, help="整改期（月），默认 6")
        self.add_as(rule)
        grant = sub.add_parser("grant", help="按决定授予称号（已取消的须凭新的决定重新授予）")
        grant.add_argument("rule", metavar="RULE")
        grant.add_argument("unit", metavar="UNIT", help="单位代码")
        grant.add_argument("--decision", required=True, help="授予决定的文号")
        grant.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="授予日期")
        self.add_as(grant)
        review = sub.add_parser("review", help="按已公布的考核轮次结果动态管理（公布时已自动进行；重复执行不重复记录）")
        review.add_argument("round", metavar="ROUND")
        self.add_as(review)
        ls = sub.add_parser("list", help="列出称号：单位代码<TAB>单位<TAB>称号<TAB>状态<TAB>整改期限")
        ls.add_argument("--at-risk", action="store_true", help="只列整改期内的")
        self.add_as(ls)

    def verb_rule(self, user=None, **options) -> None:
        rule = services.save_rule(user, code=options["code"], title=options["title"],
                                  framework_code=options["framework"], fail_grades=options["fail_grade"],
                                  pass_score=options.get("pass_score"), rectify_months=options["months"])
        line = "、".join(rule.fail_grades) or "—"
        score = rule.pass_score if rule.pass_score is not None else "—"
        self.stdout.write(f"已设定 {rule.code}（{rule.title}）：不达标等次 {line}，达标分数线 {score}，"
                          f"整改期 {rule.rectify_months} 个月")

    def verb_grant(self, user=None, **options) -> None:
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise Refused([Problem(column="UNIT", reason=f"没有代码为 {options['unit']} 的单位")])
        d = services.grant(user, services.rule_of(options["rule"]), unit, granted_on=_date(options["on"], "--on"),
                           decision=options["decision"])
        self.stdout.write(f"已授予 {unit.short_name or unit.name}“{d.rule.title}”（{d.decision}）")

    def verb_review(self, user=None, **options) -> None:
        done = services.review_round(user, rounds.round_of(options["round"]))
        for e in done.changed:
            d = e.designation
            self.stdout.write(f"{d.unit.code}\t{d.unit.short_name or d.unit.name}\t{d.rule.title}\t"
                              f"{d.get_state_display()}\t{e.reason}")
        self.stdout.write(f"动态管理：变动 {len(done.changed)} 个，未变 {done.unchanged} 个")

    def verb_list(self, user=None, **options) -> None:
        items = services.at_risk(user) if options["at_risk"] else services.visible(user).order_by(
            "rule__code", "unit__code", "-granted_on")
        for d in items:
            until = f"{d.rectify_until:%Y-%m-%d}" if d.rectify_until else ""
            self.stdout.write(f"{d.unit.code}\t{d.unit.short_name or d.unit.name}\t{d.rule.title}\t"
                              f"{d.get_state_display()}\t{until}")
