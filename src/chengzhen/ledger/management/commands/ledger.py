from pathlib import Path

from django.core.management.base import CommandError

from chengzhen.commands import NounCommand
from chengzhen.ledger.exporter import export_ledger
from chengzhen.ledger.importer import import_ledger
from chengzhen.programmes.models import Programme


class Command(NounCommand):
    help = (
        "任务台账（ledger）：import 从 Excel 导入台账（全部通过才写入）；export 导出台账 Excel；"
        "reports-import 导入月度/季度进度报送表。"
    )
    noun = "ledger"

    def add_verbs(self, sub) -> None:
        imp = sub.add_parser(
            "import", help="导入台账 .xlsx：按任务编号新增或更新；任何一处问题都整表拒绝并逐条列出",
        )
        imp.add_argument("file", metavar="FILE.xlsx")
        imp.add_argument("--programme", required=True, metavar="CODE", help="工作计划代码")
        imp.add_argument("--dry-run", action="store_true",
                         help="只预览：逐行显示 新增 / 修改（字段：原值 → 新值）/ 不变，不写入")
        self.add_as(imp)
        exp = sub.add_parser("export", help="导出台账 .xlsx（标题行、日期行、两行表头、冻结窗格）")
        exp.add_argument("--programme", required=True, metavar="CODE", help="工作计划代码")
        exp.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help="输出文件")
        self.add_as(exp)
        rep = sub.add_parser(
            "reports-import",
            help="导入进度报送表 .xlsx（任务编号、报送单位、形象进度、本期完成投资、进展情况…）；"
            "已有现行报送的视为更正",
        )
        rep.add_argument("file", metavar="FILE.xlsx")
        rep.add_argument("--programme", required=True, metavar="CODE", help="工作计划代码")
        rep.add_argument("--period", required=True, metavar="PERIOD",
                         help="报送期：按月 2026-05，按季 2026-Q2")
        rep.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        self.add_as(rep)

    def programme(self, code: str) -> Programme:
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            raise CommandError(f"--programme: 没有代码为 {code!r} 的工作计划")
        return programme

    def verb_import(self, *, user, file, programme, dry_run, **options) -> None:
        result = import_ledger(user, self.programme(programme), Path(file), dry_run=dry_run)
        labels = {"create": "新增", "update": "修改", "unchanged": "不变"}
        if dry_run:
            for row in result.rows:
                self.stdout.write(f"第{row.row}行\t{row.code}\t{labels[row.action]}")
                for label, before, after in row.changes:
                    self.stdout.write(f"\t\t{label}: {before or '（空）'} → {after or '（空）'}")
        for column in result.computed:
            self.stdout.write(f"忽略计算列：{column}（由系统计算，不导入）")
        for column in result.ignored:
            self.stdout.write(f"忽略未知列：{column}")
        for warning in result.warnings:
            self.stderr.write(f"注意：{warning}")
        done = "预览（未写入）" if dry_run else "已导入"
        self.stdout.write(
            f"{done}：新增 {result.count('create')} 项，修改 {result.count('update')} 项，"
            f"不变 {result.count('unchanged')} 项"
        )

    def verb_export(self, *, user, programme, output, **options) -> None:
        n = export_ledger(user, self.programme(programme), Path(output))
        self.stdout.write(f"已导出 {n} 项任务到 {output}")

    def verb_reports_import(self, *, user, file, programme, period, dry_run, **options) -> None:
        from chengzhen.ledger.report_import import import_reports

        result = import_reports(user, self.programme(programme), Path(file), period=period,
                                dry_run=dry_run)
        done = "检查通过（未写入）" if dry_run else "已导入"
        self.stdout.write(f"{done}：新报送 {result.created} 条，更正 {result.superseded} 条")
