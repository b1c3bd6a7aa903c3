import datetime as dt

from chengzhen.commands import NounCommand
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme

from ... import rounds
from ...models import Round


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused([Problem(column=option, reason=f"{text!r} 不是日期（YYYY-MM-DD）")]) from None


class Command(NounCommand):
    help = ("考核轮次（round）：list 列出；create 建立；gather CODE 平台取数；score CODE 评分；"
            "publish CODE 公布；report CODE -o DIR 写出考核结果通报（.docx）和排名（.xlsx）。")
    noun = "round"

    def add_verbs(self, sub) -> None:
        sub.add_parser("list", help="列出考核轮次：代码<TAB>名称<TAB>测评体系<TAB>状态<TAB>对象数")
        cr = sub.add_parser("create", help="建立考核轮次")
        cr.add_argument("code", metavar="CODE")
        cr.add_argument("--name", required=True, help="名称，如 2026年度优先发展重点镇建设考核")
        cr.add_argument("--framework", required=True, metavar="CODE[@VERSION]")
        cr.add_argument("--units", required=True, metavar="CODE,CODE…", help="考核对象的单位代码")
        cr.add_argument("--year", type=int, required=True, help="对象属性年度")
        cr.add_argument("--period", required=True, metavar="FROM..TO", help="考核期，如 2026-01-01..2026-12-31")
        cr.add_argument("--submit-by", required=True, metavar="YYYY-MM-DD", help="填报截止")
        cr.add_argument("--verify-by", metavar="YYYY-MM-DD", help="核查截止")
        cr.add_argument("--programme", metavar="CODE", help="平台取数所用的工作计划")
        cr.add_argument("--previous", metavar="CODE", help="上一轮（排名变化与上期数值）")
        cr.add_argument("--public", action="store_true", help="公布后结果对所有人公开")
        cr.add_argument("--issuer", default="", help="考核结果通报的发文机关")
        self.add_as(cr)
        for verb, text in (("gather", "平台取数：把台账和督查记录中的指标填为待核查的数值"),
                           ("score", "按已核查的数值评分（冻结测评体系版本；可重复，结果相同；"
                                     "已公布的轮次只复核、不改动）"),
                           ("publish", "公布评分结果：各对象可查看本单位评分明细")):
            p = sub.add_parser(verb, help=text)
            p.add_argument("code", metavar="CODE")
            self.add_as(p)
        rep = sub.add_parser("report", help="写出考核结果通报（.docx，公文格式）和排名（.xlsx）")
        rep.add_argument("code", metavar="CODE")
        rep.add_argument("-o", dest="output", metavar="DIR", required=True)

    def verb_list(self, user=None, **options) -> None:
        for r in Round.objects.select_related("framework_version__framework").order_by("code"):
            self.stdout.write(f"{r.code}\t{r.name}\t{r.framework_version}\t{r.status}\t{r.subjects.count()}")

    def verb_create(self, user=None, **options) -> None:
        start, _sep, end = options["period"].partition("..")
        programme = previous = None
        if options.get("programme"):
            programme = Programme.objects.filter(code=options["programme"]).first()
            if programme is None:
                raise Refused([Problem(column="--programme", reason=f"没有代码为 {options['programme']} 的计划")])
        if options.get("previous"):
            previous = rounds.round_of(options["previous"])
        r = rounds.create_round(
            user, code=options["code"], name=options["name"], framework_name=options["framework"],
            unit_codes=[c.strip() for c in options["units"].split(",") if c.strip()], year=options["year"],
            period_from=_date(start, "--period"), period_to=_date(end or start, "--period"),
            submit_by=_date(options["submit_by"], "--submit-by"),
            verify_by=_date(options["verify_by"], "--verify-by") if options.get("verify_by") else None,
            programme=programme, previous=previous, public=options["public"], issuer=options["issuer"])
        self.stdout.write(f"已建立考核轮次 {r.code}：{r.subjects.count()} 个对象，测评体系 {r.framework_version}")

    def verb_gather(self, user=None, **options) -> None:
        counts = rounds.gather_platform_values(user, rounds.round_of(options["code"]))
        self.stdout.write(f"平台取数：新增 {counts.get('new', 0)}，更新 {counts.get('changed', 0)}，"
                          f"未变 {counts.get('unchanged', 0)}，无法计算 {counts.get('none', 0)}")

    def verb_score(self, user=None, **options) -> None:
        r = rounds.round_of(options["code"])
        scored = rounds.score_round(user, r)
        s = scored.scoring
        if scored.reproduced:
            self.stdout.write(f"复核一致 {r.code}：已公布，重新计算 {s.subjects} 个对象的得分"
                              f"与评分记录 #{s.pk} 完全相同")
        else:
            self.stdout.write(f"已评分 {r.code}（{r.framework_version}，已冻结）：{s.subjects} 个对象，"
                              f"评分记录 #{s.pk}")
        for row in sorted(scored.ranking, key=lambda x: x["rank"]):
            self.stdout.write(f"{row['rank']}\t{row['subject']}\t{row['name']}\t{row['total']}\t{row['grade']}")

    def verb_publish(self, user=None, **options) -> None:
        r = rounds.publish_round(user, rounds.round_of(options["code"]))
        self.stdout.write(f"已公布 {r.code}")

    def verb_report(self, user=None, **options) -> None:
        for path in rounds.report_files(rounds.round_of(options["code"]), options["output"]):
            self.stdout.write(str(path))
