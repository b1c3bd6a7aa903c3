from chengzhen.commands import NounCommand

from ...points import PopulationRule
from ...presets import Preset
from ...run import DEFAULT_MAX_DISTANCE, DEFAULT_SPEED, run


class Command(NounCommand):
    help = ("生活圈（lifecircle）：run 按真实路网测算每处住宅到各类设施的步行距离和时间、各生活圈是否覆盖，"
            "以及各区域按人口加权的覆盖率，写出 homes.csv、coverage.csv/.xlsx、supply.csv、problems.csv、"
            "lifecircle.gpkg 和地图；site 在候选点中选址（最大覆盖）；presets 列出随附的标准预设；"
            "submit 把一次测算的覆盖率作为考核数值报送到考核轮次。")
    noun = "lifecircle"

    def add_verbs(self, sub) -> None:
        r = sub.add_parser("run", help="测算一次：全部成功才写入输出文件夹")
        r.add_argument("--network", required=True, metavar="FILE",
                       help="路网：GeoJSON、GeoPackage、Shapefile（或其 .zip）或 OpenStreetMap .osm.pbf（步行路网）")
        r.add_argument("--facilities", required=True, metavar="FILE",
                       help="设施：点位表（.csv/.xlsx，含坐标与类型列）、点图层，或 .osm.pbf 中的设施")
        r.add_argument("--homes", required=True, metavar="FILE",
                       help="住宅：点位表（.csv/.xlsx，含坐标与人口、户数或建筑面积列）或点图层")
        r.add_argument("--crs", metavar="CODE",
                       help="点位表的坐标系：WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG 代码（不猜测）")
        r.add_argument("--preset", metavar="NAME|FILE", help=f"标准预设（{'、'.join(Preset.shipped())}）或预设文件；"
                                                              "省略则测算设施文件中出现的每一类")
        r.add_argument("--type-column", metavar="NAME", help="设施类型列（默认 type 或 类型）")
        r.add_argument("--id-column", metavar="NAME", help="住宅编号列（默认 home_id 或 id）")
        r.add_argument("--snap", choices=["edge", "node"], default="edge",
                       help="edge（默认）：投影到最近路段并计入连接线；node：最近路网节点（与同类工具一致，便于对比）")
        r.add_argument("--areas", metavar="FILE", help="区域面图层（GeoJSON，名称/name 属性），按区域统计覆盖率")
        r.add_argument("--max-distance", type=float, default=DEFAULT_MAX_DISTANCE,
                       help=f"无预设时距离的上限（米，默认 {DEFAULT_MAX_DISTANCE:g}），超出留空")
        r.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                       help=f"无预设时的步行速度（米/分钟，默认 {DEFAULT_SPEED:g}）")
        r.add_argument("--household-size", type=float, default=PopulationRule.household_size,
                       help=f"按户数推算人口时的户均人数（默认 {PopulationRule.household_size:g}）")
        r.add_argument("--area-per-person", type=float, default=PopulationRule.area_per_person,
                       help=f"按建筑面积推算人口时的人均建筑面积（平方米，默认 {PopulationRule.area_per_person:g}）")
        r.add_argument("--max-snap", type=float, default=500.0,
                       help="住宅、设施到最近道路的最远距离（米，默认 500），更远的列入 problems.csv、不参与测算")
        r.add_argument("--no-maps", action="store_true",
                       help="有预设时默认为每类设施绘制地图（PNG、SVG）；加此项不绘制")
        r.add_argument("--no-gpkg", action="store_true",
                       help="不写 lifecircle.gpkg（住宅、设施、缺口、区域图层；住宅很多时缺口图层很大）")
        r.add_argument("--regions", metavar="FILE",
                       help="分区测算：区域面图层（GeoJSON，名称/name），逐区在 Dask 上测算（各区外扩最大服务距离，"
                            "结果与整体测算相同）")
        r.add_argument("--scheduler", default="local", metavar="ADDRESS",
                       help="分区测算的 Dask 调度器地址（如 tcp://10.0.0.5:8786）；默认 local 为本机集群，"
                            "none 为本进程")
        r.add_argument("--workers", type=int, default=2, help="本机 Dask 集群的进程数（默认 2）")
        r.add_argument("-o", dest="output", required=True, metavar="DIR")
        sub.add_parser("presets", help="列出随附的标准预设：名称<TAB>标准<TAB>生活圈")
        t = sub.add_parser("site", help="设施选址：在候选点中选 k 处新址，使新增覆盖人口最多（最大覆盖选址），"
                                        "保留现有设施；全部成功才写入输出文件夹")
        t.add_argument("--network", required=True, metavar="FILE", help="路网（同 run）")
        t.add_argument("--homes", required=True, metavar="FILE", help="住宅（同 run）")
        t.add_argument("--type", required=True, dest="type_code", metavar="TYPE",
                       help="要新建的设施类型：代码、中文名称或 OSM 值")
        where = t.add_mutually_exclusive_group(required=True)
        where.add_argument("--candidates", metavar="FILE", help="候选点：点位表（site_id 或 id 列）或点图层")
        where.add_argument("--vacant", metavar="FILE",
                           help="空闲用地面图层（GeoJSON）：其中的每个路网节点都是候选点")
        t.add_argument("-k", type=int, required=True, help="新址个数")
        t.add_argument("--preset", metavar="NAME|FILE", help="标准预设：与 --circle 一起给出该类设施的服务距离")
        t.add_argument("--circle", type=int, metavar="MIN", help="生活圈（分钟），如 15")
        t.add_argument("--radius", type=float, metavar="METRES", help="或直接给出服务距离（米）")
        t.add_argument("--existing", metavar="FILE", help="现有设施（含类型列）：保留，其已覆盖的住宅不再计入")
        t.add_argument("--type-column", metavar="NAME", help="现有设施的类型列（默认 type 或 类型）")
        t.add_argument("--id-column", metavar="NAME", help="住宅编号列（默认 home_id 或 id）")
        t.add_argument("--crs", metavar="CODE", help="点位表的坐标系（同 run）")
        t.add_argument("--snap", choices=["edge", "node"], default="edge", help="同 run")
        t.add_argument("--method", choices=["exact", "greedy"], default="exact",
                       help="exact（默认）：混合整数模型（HiGHS），时限内未证最优时报告差距；greedy：贪心")
        t.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="exact 的时限（秒，默认 60）")
        t.add_argument("--areas", metavar="FILE", help="区域面图层（GeoJSON），按区域列出选址前后的覆盖")
        t.add_argument("--max-snap", type=float, default=500.0, help="到最近道路的最远距离（米，默认 500）")
        t.add_argument("-o", dest="output", required=True, metavar="DIR")
        s = sub.add_parser("submit", help="把 run 输出的某类设施、某个生活圈的覆盖率（%%）作为各区域对应考核对象的"
                                          "考核数值报送，附 coverage.xlsx（及该类地图）为佐证材料；全部成功才写入")
        s.add_argument("folder", metavar="DIR", help="lifecircle run 的输出文件夹（含 coverage.csv、coverage.xlsx）")
        s.add_argument("--round", required=True, metavar="CODE", help="考核轮次代码")
        s.add_argument("--indicator", required=True, metavar="NODE[:INPUT]",
                       help="末级指标代码（以 %% 计），有多个取值项时用 :INPUT 指定")
        s.add_argument("--type", required=True, dest="type_code", metavar="TYPE",
                       help="设施类型：代码、中文名称，或覆盖率文件中的其他类型（如全部必配）")
        s.add_argument("--circle", required=True, metavar="MIN", help="生活圈（分钟），如 15")
        s.add_argument("--areas-map", metavar="FILE",
                       help="区域对应表（CSV，列 area,unit_code）；未列出的区域按单位名称、简称或代码对应")
        s.add_argument("--skip-unknown-areas", action="store_true",
                       help="忽略对应不到本轮考核对象的区域（默认拒绝并列出这些区域）")
        s.add_argument("--preset", metavar="NAME|FILE",
                       help="测算所用的预设（核对服务距离）；省略则按覆盖率文件识别随附预设")
        self.add_as(s)

    def verb_presets(self, user=None, **options) -> None:
        for name in Preset.shipped():
            p = Preset.load(name)
            self.stdout.write(f"{name}\t{p.name}\t{'/'.join(str(m) for m in p.minutes)} 分钟")

    def verb_submit(self, user=None, **options) -> None:
        from ...services import submit_coverage

        node, _sep, input_code = options["indicator"].partition(":")
        done = submit_coverage(user, options["round"], folder=options["folder"], node_code=node.strip(),
                               input_code=input_code.strip(), type_code=options["type_code"],
                               circle=options["circle"], area_to_unit=options.get("areas_map"),
                               skip_unknown_areas=options["skip_unknown_areas"], preset=options.get("preset"))
        for note in done.skipped:
            self.stderr.write(note)
        for value in done.values:
            rate = done.rates[value.subject.code]
            late = "（逾期报送）" if value.late else ""
            self.stdout.write(f"{value.subject.code}\t{value.subject.short_name or value.subject.name}\t"
                              f"{rate.area}\t{value.amount_text}%\t第 {value.version} 版{late}")
        self.stdout.write(f"已报送 {len(done.values)} 个考核数值（{options['round']} {node.strip()}，待核查），"
                          f"佐证材料：{'、'.join(done.files)}")

    def verb_site(self, user=None, **options) -> None:
        from ...site_run import site

        done = site(network=options["network"], homes=options["homes"], type_code=options["type_code"],
                    k=options["k"], output=options["output"], candidates=options.get("candidates"),
                    vacant=options.get("vacant"), preset=options.get("preset"), circle=options.get("circle"),
                    radius=options.get("radius"), existing=options.get("existing"),
                    type_column=options.get("type_column"), id_column=options.get("id_column"),
                    snap=options["snap"], method=options["method"], time_limit=options["time_limit"],
                    crs=options.get("crs"), max_snap=options["max_snap"], areas=options.get("areas"),
                    progress=lambda text: self.stderr.write(text))
        self.stdout.write(done.text)
        for path in done.files:
            self.stdout.write(str(path))

    def verb_run(self, user=None, **options) -> None:
        done = run(network=options["network"], facilities=options["facilities"], homes=options["homes"],
                   output=options["output"], crs=options.get("crs"), preset=options.get("preset"),
                   type_column=options.get("type_column"), id_column=options.get("id_column"),
                   snap=options["snap"], areas=options.get("areas"), max_distance=options["max_distance"],
                   speed=options["speed"],
                   population=PopulationRule(options["household_size"], options["area_per_person"]),
                   max_snap=options["max_snap"], maps=not options["no_maps"], geopackage=not options["no_gpkg"],
                   regions=options.get("regions"),
                   scheduler=None if options["scheduler"] == "none" else options["scheduler"],
                   workers=options["workers"],
                   progress=lambda text: self.stderr.write(text))
        self.stdout.write(done.summary)
        for path in done.files:
            self.stdout.write(str(path))
