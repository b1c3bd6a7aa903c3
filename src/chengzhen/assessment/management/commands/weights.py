from pathlib import Path

from chengzhen.commands import NounCommand
from chengzhen.problems import Problem, Refused

from ... import weighting, weightsets
from ...models import WeightMethod, WeightSet
from ...weight_tables import read_table, read_weights


def _f(x: float) -> str:
    return f"{x:.4f}"


class Command(NounCommand):
    help = (
        "赋权方法（weights）：ahp FILE 层次分析法（判断矩阵）；entropy FILE 熵权法（数据表）；"
        "topsis FILE [--weights W.csv] 逼近理想解排序；combine 主观 客观 --alpha 0.5 组合赋权；list 列出已保存的权重。"
        "ahp/entropy/combine 加 --save NAME 保存权重，再加 --framework CODE[@VERSION] --node CODE 生成测评体系新版本。"
    )
    noun = "weights"

    def add_verbs(self, sub) -> None:
        sub.add_parser("list", help="列出已保存的权重：编号<TAB>名称<TAB>方法<TAB>指标数<TAB>据此生成的体系版本")
        ahp = sub.add_parser("ahp", help="层次分析法：方阵判断矩阵（首行、首列可写指标名称），"
                                         "输出权重、λmax、CI、RI、CR")
        ahp.add_argument("file", metavar="FILE.csv")
        self._save_options(ahp)
        ent = sub.add_parser("entropy", help="熵权法：各行为评价对象、各列为指标（首列可写名称），"
                                             "可加一行 方向（+、−、目标值）")
        ent.add_argument("file", metavar="FILE.csv")
        self._save_options(ent)
        top = sub.add_parser("topsis", help="TOPSIS：按向量归一化排序，输出 名次<TAB>名称<TAB>C<TAB>D+<TAB>D−")
        top.add_argument("file", metavar="FILE.csv")
        top.add_argument("--weights", metavar="W.csv", help="权重表（每行 名称,权重）；不给时各指标等权")
        top.add_argument("--weight-set", metavar="ID", help="改用已保存的权重（编号或名称）")
        com = sub.add_parser("combine", help="组合赋权 w = α·主观 + (1−α)·客观；"
                                             "两组权重各为已保存权重的编号或 名称,权重 表")
        com.add_argument("subjective", metavar="AHP",
                         help="主观权重（通常为层次分析法）：已保存权重的编号，或权重表文件")
        com.add_argument("objective", metavar="ENTROPY",
                         help="客观权重（通常为熵权法）：已保存权重的编号，或权重表文件")
        com.add_argument("--alpha", type=float, default=0.5, help="主观权重的系数 α（0–1，默认 0.5，待核实的经验值）")
        self._save_options(com)

    def _save_options(self, parser) -> None:
        parser.add_argument("--save", metavar="NAME", help="把结果保存为权重（记入审计）")
        parser.add_argument("--framework", metavar="CODE[@VERSION]",
                            help="与 --save、--node 同用：生成该测评体系的新版本，节点的下级指标按这组权重计分")
        parser.add_argument("--node", metavar="CODE", help="测评体系中要赋权的节点代码（其下级指标须与权重一一对应）")
        self.add_as(parser)

    # ---- verbs ---------------------------------------------------------------------------------

    def verb_list(self, user=None, **options) -> None:
        for ws in WeightSet.objects.select_related("framework_version__framework"):
            fv = str(ws.framework_version) if ws.framework_version else ""
            self.stdout.write(f"{ws.pk}\t{ws.name}\t{ws.get_method_display()}\t{len(ws.criteria)}\t{fv}")

    def verb_ahp(self, user=None, **options) -> None:
        self._check_save_options(options)
        table = read_table(self._file(options["file"]), kind="matrix")
        result = weighting.ahp(table.values, table.column_names, cells=table.cells())
        self._weights_table(result.names, result.weights)
        ri = "—" if result.n <= 2 else f"{result.ri:.2f}（{result.ri_source}）"
        self.stdout.write(f"λmax = {_f(result.lambda_max)}\nCI = {_f(result.ci)}\nRI = {ri}\nCR = {_f(result.cr)}")
        self.stdout.write(result.verdict())
        figures = {"lambda_max": result.lambda_max, "ci": result.ci, "ri": result.ri, "ri_source": result.ri_source,
                   "cr": result.cr, "verdict": result.verdict()}
        if result.worst_pair is not None:
            figures["worst_pair"] = [result.names[k] for k in result.worst_pair]
        inputs = {"file": table.file, "names": list(result.names), "matrix": table.values.tolist()}
        self._save(user, options, WeightMethod.AHP, result.names, result.weights, inputs, figures)

    def verb_entropy(self, user=None, **options) -> None:
        self._check_save_options(options)
        table = read_table(self._file(options["file"]))
        result = weighting.entropy(table.values, table.directions, table.column_names, cells=table.cells())
        if table.directions is None:
            self.stdout.write("未给方向行，各指标按正向（越大越好）处理")
        self.stdout.write("指标\t权重\t信息熵 e\t差异系数 d")
        for name, w, e, d in zip(result.names, result.weights, result.entropy, result.divergence, strict=True):
            self.stdout.write(f"{name}\t{_f(w)}\t{_f(e)}\t{_f(d)}")
        self.stdout.write(f"评价对象 {table.values.shape[0]} 个，指标 {table.values.shape[1]} 个")
        self.stdout.write(result.convention)
        for warning in result.warnings:
            self.stdout.write(f"提示：{warning}")
        directions = [d if isinstance(d, str) else float(d) for d in result.directions]
        inputs = {"file": table.file, "alternatives": list(table.row_names), "criteria": list(result.names),
                  "direction": directions, "table": table.values.tolist()}
        figures = {"entropy": result.entropy.tolist(), "divergence": result.divergence.tolist(),
                   "warnings": list(result.warnings), "convention": result.convention}
        self._save(user, options, WeightMethod.ENTROPY, result.names, result.weights, inputs, figures)

    def verb_topsis(self, user=None, **options) -> None:
        table = read_table(self._file(options["file"]))
        weights = None
        if options.get("weights") and options.get("weight_set"):
            raise Refused([Problem(reason="--weights 与 --weight-set 只能给一个")])
        if options.get("weights"):
            given = read_weights(self._file(options["weights"]))
            weights = self._aligned(given, table.column_names, Path(options["weights"]).name)
            self.stdout.write(f"权重取自 {Path(options['weights']).name}")
        elif options.get("weight_set"):
            ws = weightsets.resolve_weight_set(options["weight_set"])
            given = {c: float(w) for c, w in zip(ws.criteria, ws.weights, strict=True)}
            weights = self._aligned(given, table.column_names, f"权重 #{ws.pk}")
            self.stdout.write(f"权重取自已保存的权重 #{ws.pk} {ws.name}")
        else:
            self.stdout.write(f"未给权重，{len(table.column_names)} 个指标等权（各 {_f(1 / len(table.column_names))}）")
        result = weighting.topsis(table.values, weights, table.directions, alternatives=table.row_names,
                                  criteria=table.column_names, cells=table.cells())
        self.stdout.write("名次\t名称\t贴近度 C\tD+\tD−")
        for i in result.order():
            self.stdout.write(f"{result.ranks[i]}\t{result.alternatives[i]}\t{_f(result.closeness[i])}\t"
                              f"{_f(result.d_best[i])}\t{_f(result.d_worst[i])}")
        self.stdout.write(result.convention)
        for warning in result.warnings:
            self.stdout.write(f"提示：{warning}")

    def verb_combine(self, user=None, **options) -> None:
        self._check_save_options(options)
        alpha = options["alpha"]
        first, first_from = self._weights_from(options["subjective"])
        second, second_from = self._weights_from(options["objective"])
        if set(first) != set(second):
            only = sorted(set(first) ^ set(second))
            raise Refused([Problem(reason=f"两组权重的指标不同：{'、'.join(only)} 只在其中一组")])
        names = list(first)
        a = [first[k] for k in names]
        b = [second[k] for k in names]
        combined = weighting.combine(a, b, alpha)
        self.stdout.write(f"组合系数 α = {alpha:g}：w = {alpha:g}·主观（{first_from}）"
                          f"+ {1 - alpha:g}·客观（{second_from}）")
        self.stdout.write("指标\t组合权重\t主观\t客观")
        for name, w, x, y in zip(names, combined, a, b, strict=True):
            self.stdout.write(f"{name}\t{_f(w)}\t{_f(x)}\t{_f(y)}")
        inputs = {"alpha": alpha, "subjective": {"from": first_from, "weights": a},
                  "objective": {"from": second_from, "weights": b}, "criteria": names}
        self._save(user, options, WeightMethod.COMBINED, names, combined, inputs, {"alpha": alpha})

    # ---- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _file(name: str) -> Path:
        path = Path(name)
        if not path.is_file():
            raise Refused([Problem(file=str(path), reason="文件不存在")])
        return path

    def _weights_table(self, names, weights) -> None:
        self.stdout.write("指标\t权重")
        for name, w in zip(names, weights, strict=True):
            self.stdout.write(f"{name}\t{_f(w)}")

    @staticmethod
    def _aligned(given: dict[str, float], criteria, source: str) -> list[float]:
        missing = [c for c in criteria if c not in given]
        extra = [c for c in given if c not in criteria]
        problems = []
        if missing:
            problems.append(Problem(file=source, reason=f"缺少这些指标的权重：{'、'.join(missing)}"))
        if extra:
            problems.append(Problem(file=source, reason=f"这些指标不在数据表中：{'、'.join(extra)}"))
        if problems:
            raise Refused(problems)
        return [given[c] for c in criteria]

    def _weights_from(self, ref: str) -> tuple[dict[str, float], str]:
        if Path(ref).is_file():
            weights = read_weights(ref)
            total = sum(weights.values())
            if total <= 0:
                raise Refused([Problem(file=ref, reason="权重合计应大于 0")])
            if abs(total - 1) > 1e-6:
                self.stdout.write(f"提示：{Path(ref).name} 的权重合计 {total:g}，已化为合计 1")
            return {k: v / total for k, v in weights.items()}, Path(ref).name
        ws = weightsets.resolve_weight_set(ref)
        return {c: float(w) for c, w in zip(ws.criteria, ws.weights, strict=True)}, f"#{ws.pk} {ws.name}"

    @staticmethod
    def _check_save_options(options) -> None:
        problems = []
        if (options.get("framework") or options.get("node")) and not options.get("save"):
            problems.append(Problem(reason="--framework、--node 须与 --save 同用"))
        if bool(options.get("framework")) != bool(options.get("node")):
            problems.append(Problem(reason="--framework 与 --node 须同时给出"))
        if problems:
            raise Refused(problems)

    def _save(self, user, options, method, names, weights, inputs, figures) -> None:
        if not options.get("save"):
            return
        ws = weightsets.save_weight_set(user, name=options["save"], method=method, criteria=list(names),
                                        weights=weights, inputs=inputs, figures=figures,
                                        framework_name=options.get("framework") or "",
                                        node_code=options.get("node") or "")
        self.stdout.write(f"已保存权重 #{ws.pk} {ws.name}（{ws.get_method_display()}，权重合计 1，保留 6 位小数）")
        if ws.framework_version:
            self.stdout.write(f"已生成测评体系新版本 {ws.framework_version}："
                              f"{options['node']} 的下级指标按这组权重计分")
