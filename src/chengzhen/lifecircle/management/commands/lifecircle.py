from chengzhen.commands import NounCommand

from ...points import PopulationRule
from ...presets import Preset
from ...run import DEFAULT_MAX_DISTANCE, DEFAULT_SPEED, run


class Command(NounCommand):
    help = ("生活圈（lifecircle）：run 按真实路网测算每处住宅到各类设施的步行距离和时间、各生活圈是否覆盖，"
            "以及各区域按人口加权的覆盖率，写出 homes.csv、coverage.csv 和 coverage.xlsx；presets 列出随附的标准预设。")
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
        r.add_argument("--no-maps", action="store_true",
                       help="有预设时默认为每类设施绘制地图（PNG、SVG）；加此项不绘制")
        r.add_argument("-o", dest="output", required=True, metavar="DIR")
        sub.add_parser("presets", help="列出随附的标准预设：名称<TAB>标准<TAB>生活圈")

    def verb_presets(self, user=None, **options) -> None:
        for name in Preset.shipped():
            p = Preset.load(name)
            self.stdout.write(f"{name}\t{p.name}\t{'/'.join(str(m) for m in p.minutes)} 分钟")

    def verb_run(self, user=None, **options) -> None:
        done = run(network=options["network"], facilities=options["facilities"], homes=options["homes"],
                   output=options["output"], crs=options.get("crs"), preset=options.get("preset"),
                   type_column=options.get("type_column"), id_column=options.get("id_column"),
                   snap=options["snap"], areas=options.get("areas"), max_distance=options["max_distance"],
                   speed=options["speed"],
                   population=PopulationRule(options["household_size"], options["area_per_person"]),
                   maps=not options["no_maps"],
                   progress=lambda text: self.stderr.write(text))
        self.stdout.write(f"已测算 {done.homes} 处住宅、{len(done.types)} 类设施；离路网过远 {done.far_homes} 处")
        for path in done.files:
            self.stdout.write(str(path))
