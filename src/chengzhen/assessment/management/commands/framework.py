from pathlib import Path

from chengzhen.commands import NounCommand
from chengzhen.org.permissions import Action, require
from chengzhen.problems import Problem, Refused

from ... import services
from ...models import FrameworkVersion


class Command(NounCommand):
    help = (
        "测评体系（framework）：list 列出；import FILE 导入 YAML 或 Excel；export CODE[@VERSION] -o FILE "
        "导出为 .yaml 或 .xlsx；template CODE[@VERSION] --units … -o FILE 写出待填的数值表；"
        "score CODE[@VERSION] --values FILE -o DIR 不建考核轮次试评一张数值表。"
    )
    noun = "framework"

    def add_verbs(self, sub) -> None:
        sub.add_parser("list", help="列出测评体系版本：代码<TAB>名称<TAB>版本<TAB>complete|sample（完整/示例）")
        imp = sub.add_parser(
            "import", help="导入测评体系（.yaml/.yml 或惯用版式的 .xlsx）；同一版本内容有变且未冻结时替换"
        )
        imp.add_argument("file", metavar="FILE")
        self.add_as(imp)
        exp = sub.add_parser("export", help="导出测评体系，按扩展名写 .yaml 或 .xlsx")
        exp.add_argument("name", metavar="CODE[@VERSION]")
        exp.add_argument("-o", dest="output", metavar="FILE", required=True)
        tpl = sub.add_parser("template", help="写出待填的数值表（数值填报），有对象类别时另写对象属性表")
        tpl.add_argument("name", metavar="CODE[@VERSION]")
        tpl.add_argument("--units", metavar="CODE,CODE…", required=True,
                         help="参评对象的单位代码（逗号分隔；乡镇用其 12 位区划代码）")
        tpl.add_argument("--year", type=int, metavar="YYYY", help="对象属性表填入该年度平台中已有的属性（默认：今年）")
        tpl.add_argument("-o", dest="output", metavar="FILE.xlsx", required=True)
        sc = sub.add_parser("score", help="试评：按测评体系给数值表评分，写出 排名.xlsx 与 评分明细.xlsx")
        sc.add_argument("name", metavar="CODE[@VERSION]")
        sc.add_argument(
            "--values",
            metavar="FILE",
            required=True,
            help="数值表（.xlsx 或 .csv：对象代码、对象名称、指标代码、指标名称、取值项、数值、单位、佐证材料）",
        )
        sc.add_argument(
            "--profiles",
            metavar="FILE",
            help="对象属性表（.xlsx 或 .csv：对象代码，再每个属性一列）；不给时用平台中该年度的对象属性",
        )
        sc.add_argument("--year", type=int, metavar="YYYY", help="取平台中对象属性的年度（默认：今年）")
        sc.add_argument("-o", dest="output", metavar="DIR", required=True, help="输出目录")
        self.add_as(sc)

    def verb_list(self, user=None, **options) -> None:
        for v in FrameworkVersion.objects.select_related("framework").order_by("framework__code", "created_at", "pk"):
            self.stdout.write(f"{v.framework.code}\t{v.name}\t{v.label}\t{v.status}")

    def verb_import(self, user=None, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise Refused([Problem(file=str(path), reason="文件不存在")])
        self.stdout.write(services.import_framework_file(user, path).message())

    def verb_export(self, user=None, **options) -> None:
        self.stdout.write(str(services.export_framework(options["name"], options["output"])))

    def verb_template(self, user=None, **options) -> None:
        written = services.write_templates(options["name"], options["units"].split(","), options["output"],
                                           year=options.get("year"))
        for path in written:
            self.stdout.write(str(path))

    def verb_score(self, user=None, **options) -> None:
        require(user, Action.EDIT, FrameworkVersion)
        for key in ("values", "profiles"):
            if options.get(key) and not Path(options[key]).is_file():
                raise Refused([Problem(file=options[key], reason="文件不存在")])
        scored = services.score_values_file(
            user,
            options["name"],
            options["values"],
            profiles_path=options.get("profiles"),
            year=options.get("year"),
            output_dir=options["output"],
        )
        s = scored.scoring
        self.stdout.write(
            f"已评分 {s.version}：{s.subjects} 个对象，结果写入 {options['output']}"
            f"（排名.xlsx、评分明细.xlsx；评分记录 #{s.pk}）"
        )
        for row in sorted(scored.ranking, key=lambda r: r["rank"]):
            self.stdout.write(f"{row['rank']}\t{row['subject']}\t{row['name']}\t{row['total']}\t{row['grade']}")
