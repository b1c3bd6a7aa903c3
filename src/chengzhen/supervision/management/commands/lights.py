import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError

from chengzhen.commands import NounCommand
from chengzhen.org.permissions import Action, require
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme
from chengzhen.supervision import services
from chengzhen.supervision.models import RuleSet, RuleSetVersion
from chengzhen.supervision.rules import fact_help


class Command(NounCommand):
    help = ("亮灯（lights）：rules list|import|export 管理亮灯规则集；recompute 重算亮灯、催办与督办；"
            "calendar import 导入节假日与调休日历。")
    noun = "lights"

    def add_verbs(self, sub) -> None:
        rules = sub.add_parser("rules", help="亮灯规则集：list / import FILE / export CODE[@VERSION] -o FILE")
        actions = rules.add_subparsers(dest="action", metavar="ACTION", required=True)
        actions.add_parser("list", help="列出规则集：代码<TAB>名称<TAB>最新版本")
        imp = actions.add_parser("import", help="导入规则集 YAML，内容有变化时生成新版本",
                                 epilog="规则可用的事实：" + "；".join(f"{k}：{v}" for k, v in fact_help()))
        imp.add_argument("file", metavar="FILE")
        self.add_as(imp)
        exp = actions.add_parser("export", help="导出规则集 YAML（原样，含注释）")
        exp.add_argument("name", metavar="CODE[@VERSION]")
        exp.add_argument("-o", dest="output", metavar="FILE", required=True)
        rec = sub.add_parser("recompute", help="重算亮灯（并发送催办、生成督办函和约谈）")
        rec.add_argument("--programme", metavar="CODE", help="只重算该计划（默认：全部计划）")
        rec.add_argument("--date", metavar="YYYY-MM-DD", help="按该日计算（默认：今天）")
        self.add_as(rec)
        cal = sub.add_parser("calendar", help="节假日与调休日历：import FILE（替换该年份的日历）")
        cal_actions = cal.add_subparsers(dest="action", metavar="ACTION", required=True)
        cal_imp = cal_actions.add_parser("import", help="导入某一年的节假日与调休（YAML）")
        cal_imp.add_argument("file", metavar="FILE")
        self.add_as(cal_imp)

    def verb_rules(self, user=None, **options) -> None:
        action = options["action"]
        if action == "list":
            for rs in RuleSet.objects.order_by("code"):
                latest = rs.latest()
                self.stdout.write(f"{rs.code}\t{rs.name}\t{latest.number if latest else '-'}")
        elif action == "import":
            version, created = services.import_rule_set_file(user, options["file"])
            word = "已导入为" if created else "内容未变，仍为"
            self.stdout.write(f"{word} {version}")
        else:
            text = services.export_rule_set(options["name"])
            out = Path(options["output"])
            try:
                out.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"{out}: 无法写入：{exc}") from None
            self.stdout.write(str(out))

    def verb_recompute(self, user=None, **options) -> None:
        from chengzhen.supervision.recompute import recompute

        programme = None
        if options.get("programme"):
            programme = Programme.objects.filter(code=options["programme"]).first()
            if programme is None:
                raise Refused([Problem(column="--programme", reason=f"没有代码为 {options['programme']} 的计划")])
        today = None
        if options.get("date"):
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise Refused([Problem(column="--date",
                                       reason=f"{options['date']!r} 不是日期（YYYY-MM-DD）")]) from None
        require(user, Action.EDIT, RuleSetVersion)  # supervisors and administrators
        result = recompute(programme=programme, today=today, trigger="command")
        for w in result.warnings:
            self.stderr.write(w)
        self.stdout.write(result.summary())

    def verb_calendar(self, user=None, **options) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused([Problem(file=path.name, reason=f"无法读取：{exc}")]) from None
        n, year = services.import_calendar(user, text, source=path.name)
        self.stdout.write(f"已导入 {year} 年节假日与调休 {n} 天")
