from chengzhen.commands import NounCommand
from chengzhen.problems import Problem, Refused

from ... import fund_services, funds
from ...models import FundMethod, FundPool


def _tiers(items: list[str]) -> dict[str, str]:
    """``--tier 优秀=10000000 --tier 良好=700万`` as {grade: amount text}."""
    tiers: dict[str, str] = {}
    for item in items or ():
        grade, sep, amount = item.partition("=")
        if not sep or not grade.strip() or not amount.strip():
            reason = f"{item!r} 应写作 等次=金额，如 优秀=10000000 或 优秀=1000万"
            raise Refused([Problem(column="--tier", reason=reason)])
        tiers[grade.strip()] = amount.strip()
    return tiers


class Command(NounCommand):
    help = ("以奖代补资金（fund）：allocate CODE 按考核结果分配；list 列出；show CODE 显示分配结果；"
            "export CODE -o FILE.xlsx 导出分配表。金额以元为单位，也可写 6800万。")
    noun = "fund"

    def add_verbs(self, sub) -> None:
        al = sub.add_parser("allocate", help="按已公布的考核轮次分配奖补资金；同一代码再次分配时替换原分配")
        al.add_argument("code", metavar="CODE", help="资金代码，如 JBDB-2026")
        al.add_argument("--round", required=True, metavar="ROUND", help="已公布的考核轮次代码")
        al.add_argument("--name", required=True, help="名称，如 2026年度优先发展重点镇以奖代补资金")
        al.add_argument("--amount", required=True, help="资金总额（元；也可写 6800万）")
        al.add_argument("--method", required=True, choices=list(funds.METHODS),
                        help="分配方式：tiers 按等次定额；proportional 按得分比例；scaled_tiers 按等次定额等比例调整")
        al.add_argument("--tier", action="append", default=[], metavar="等次=金额",
                        help="某等次的定额（元或万），可重复，如 --tier 优秀=10000000 --tier 良好=700万")
        al.add_argument("--floor", help="按得分比例时每个对象的保底（元）")
        al.add_argument("--cap", help="按得分比例时每个对象的封顶（元）")
        al.add_argument("--eligible", metavar="等次,等次…", help="按得分比例时参与分配的等次（默认全部）")
        al.add_argument("--min-total", help="按得分比例时参与分配的最低总分")
        al.add_argument("--include-flagged", action="store_true",
                        help="一票否决或未达前置条件的对象也参与分配（默认不予奖补）")
        self.add_as(al)
        sub.add_parser("list", help="列出奖补资金：代码<TAB>名称<TAB>资金总额<TAB>分配方式<TAB>考核轮次<TAB>结余或缺口")
        sh = sub.add_parser("show", help="显示分配结果：单位<TAB>金额，然后合计与结余（或缺口）")
        sh.add_argument("code", metavar="CODE")
        ex = sub.add_parser("export", help="导出分配表（.xlsx，惯用版式）")
        ex.add_argument("code", metavar="CODE")
        ex.add_argument("-o", dest="output", metavar="FILE.xlsx", required=True)

    def verb_allocate(self, user=None, **options) -> None:
        params: dict = {}
        tiers = _tiers(options["tier"])
        if tiers:
            params["tiers"] = tiers
        for key in ("floor", "cap", "min_total"):
            if options.get(key) not in (None, ""):
                params[key] = options[key]
        if options.get("eligible"):
            params["eligible_grades"] = [g.strip() for g in options["eligible"].split(",") if g.strip()]
        if options["include_flagged"]:
            params["exclude_flagged"] = False
        pool = fund_services.allocate_fund(user, code=options["code"], name=options["name"],
                                           amount=options["amount"], round=options["round"],
                                           method=options["method"], params=params)
        label = funds.balance_label(pool.remainder)
        self.stdout.write(f"已分配 {pool.code}：{pool.allocations.count()} 个对象，合计 "
                          f"{funds.yuan_text(pool.amount - pool.remainder)} 元，{label} "
                          f"{funds.yuan_text(abs(pool.remainder))} 元")

    def verb_list(self, user=None, **options) -> None:
        for pool in FundPool.objects.select_related("round").order_by("code"):
            label = funds.balance_label(pool.remainder)
            self.stdout.write(f"{pool.code}\t{pool.name}\t{pool.amount}\t{FundMethod(pool.method).label}\t"
                              f"{pool.round.code}\t{label} {abs(pool.remainder)}")

    def verb_show(self, user=None, **options) -> None:
        pool = fund_services.pool_of(options["code"])
        for a in pool.allocations.select_related("unit").order_by("rank", "unit__code"):
            self.stdout.write(f"{a.unit.short_name or a.unit.name}\t{a.amount}")
        self.stdout.write(f"合计\t{pool.amount - pool.remainder}")
        self.stdout.write(f"{funds.balance_label(pool.remainder)}\t{abs(pool.remainder)}")

    def verb_export(self, user=None, **options) -> None:
        self.stdout.write(str(fund_services.write_fund_xlsx(fund_services.pool_of(options["code"]),
                                                            options["output"])))
