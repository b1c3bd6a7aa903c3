"""Canonical measures (规范指标) and matching campaign indicators to them, for merging joint
campaigns (六城联创). Pure: no Django (PyYAML, stdlib).

The dictionary is data, ``data/measures.yaml``: each canonical measure with its code, name, unit,
direction and the other names it goes by (synonyms, older names). ``Dictionary.lookup`` finds an
indicator's measure by its normalised name among those names, requiring a unit of the same
dimension (the unit table, ``units.py``) and a compatible direction. Confirmed matches made by
people extend the dictionary (``Dictionary.extended``).

The matcher (``similarity``, ``propose``) proposes a measure for an indicator the dictionary does
not know, from the two Chinese names and units, with a score in [0, 1] and the evidence in words an
office reads. A person confirms or rejects each proposal; nothing is merged on a score alone.

Guards, checked first; any failure gives score 0 and says why (never proposed):

* Units of the same dimension in the unit table (座/万人 and 座/千人 yes; % and 公里/平方公里 no);
  a unit the table does not know only when written alike on both sides (岁 and 岁), or a compound
  unit whose parts agree one by one (千米/万人 = 公里/万人, 人/万车 = 人/万车) — else no: we cannot
  tell what it measures.
* Compatible directions (``directions_compatible``): 越高越好 never merges with 越低越好.
* The same numbers in the names (500米 vs 300米, PM2.5 vs PM10, 15分钟 vs 5分钟, 近3年 vs 近2年,
  Ⅲ类 vs Ⅴ类): a number in an indicator name fixes what is counted, so two names with different
  numbers — or a number on one side only — measure different things. Numbers written in Chinese
  before a measure word are numbers (二级 = 2级, 十五分钟 = 15分钟, 五百米 = 500米), star grades by
  letters too (AAAA级 = 4A级), 500m = 500米, and 及以上 = 以上.
* The same kind of quantity, read from the end of the name (the head of a Chinese noun phrase):
  a share (率、比例、占比、比重、比率 — one kind: 网上可办率 = 网上可办比例), a growth rate
  (增速、增长率、增幅), a reduction (降低率、下降率、降幅), a satisfaction (满意度、满意率), another
  degree (参与度、知晓度 …), an index (指数), a concentration (浓度), an average (平均值), a score
  (得分、成绩). 满意度 vs 支持率 or 知晓率 differ in kind. Heads that only restate the unit
  (面积、长度、数、数量、个数、量、人次 — but not 质量、含量 …) are dropped: the unit check already
  covers them (and 起数、户数、人数、次数、水平); a ratio of two things (之比、比值、比: 收入比) is a kind of
  its own, and 下降比例/降低比例 are reductions; what the unit says is read into the name: a 密度 in a
  unit per area is the count (公厕设置密度 座/平方公里 = 每平方公里公厕数), a score in 分 needs no
  head (测评 = 测评得分), a name without a head in % is a share (城镇化水平 = 城镇化率), and a name
  ending in its unit's word restates it (抽检批次 in 批次/千人).

Then the names are compared after removing words that do not change the quantity:

* Place scope (城市、建成区、城区、市区、中心城区、镇区、县城、城镇、全市、全县、县域、市域): a joint
  campaign is one place's campaigns, so 建成区绿化覆盖率 and 城市绿化覆盖率 are one quantity there
  (but 城镇化 is a word of its own, 城镇居民/城镇人口 a population class of the statistics, and 农村
  is not scope: it names other places; 县城 against 县域 is two extents, and a town's area —
  镇区、建制镇 — against a city's or county seat's is two places, see below).
* The public asked in a survey (群众、居民、公众、市民、百姓 are one word for it; “X对…的满意度”
  = “…X满意度”); 游客 are other people.
* Per-population and per-area denominators (每万人、每千常住人口、千名老年人、每万居民、每平方公里 …):
  they restate the unit (whose parts are compared with 名 = 人 and 老年人 = 老人).
* A unit restated in brackets (“（%）”), a Latin abbreviation glossing a term (“（EI）”) and a
  bracketed calculation note (“（按城区常住人口计算）”, “（含自建设施供水）”).
* A share written out (“甲占乙的比例”) against a name without a denominator: compared as 甲 without
  its measure word and 乙's object — the plain rate's name (生活垃圾无害化处理量占生活垃圾清运量的
  比例 = 生活垃圾无害化处理率).
* Fillers: 的、拥有、年度、全年、进行, 等 closing a list (and 需要 = 需, 周岁 = 岁, 辆 = 车 in units);
  年均 = 年平均 = 平均; “…天数占全年比例” is a plain
  share. In a share the part's measure word (绿色建筑面积占比, 注册志愿者人数占…) is dropped — not 量:
  处理量 and 处理能力 differ.
* The same word on both sides in another place (年接待游客 / 年游客接待) is an order of words.
* 生活 before 污水/垃圾/粪便, 集中 before 处理, 环境 before 空气: the statistical names of one
  quantity, as the domain file's overlap table lists them (城市生活污水集中处理率 under 污水处理率;
  环境空气质量 is the GB 3095 name of 空气质量).
* One quantity, two spellings, made one before anything is compared (the evidence says which):
  standard abbreviations (公厕 公共厕所, 公交 公共交通, 规上 规模以上, 控规 控制性详细规划, GDP
  地区生产总值, 环评, 机扫, 路网); older names by the newer (公共绿地 → 公园绿地, the class renamed by
  CJJ/T 85-2002; 用气/用水普及率 → 燃气/供水普及率); 无害化处置 = 无害化处理, 按时 = 按期; 固废, 城管,
  研发, 公共汽电车, 车辆 = 车, 主干道 = 主干路 (CJJ 37), 房价 = 住房价格, 蟑螂 = 蜚蠊, 资源化利用, 至 = 到,
  准点 = 正点, 建制村 = 行政村, 公交线路网 = 线网, the 12345 hotline's full names; definitions written
  out for one word (“按户籍人口计算的城镇化率” = 户籍人口城镇化率, “城镇化率（常住人口口径）”, “达到…
  要求的” = …达标, 优良 = air of GB 3095 grade 2 or an API/AQI ≤ 100, surface water of class Ⅲ or
  better); a pollutant's
  Chinese name by its formula (细颗粒物 PM2.5, 可吸入颗粒物 PM10 …, so the number guard sees it);
  “甲占乙比例” = “乙中甲占比”; a qualifier bracketed after the head goes before it (“绿化覆盖率
  （建成区）”). 居民/群众/公众 are one word only in survey measures: elsewhere 居民 is a population.

What remains is compared by character bigrams (no segmenter: indicator names are short noun
phrases, and bigrams see 污水处理 in both 城市污水处理率 and 生活污水集中处理率 without a
dictionary). Each character covered by a bigram the other name also has is shared; the rest are
the differing parts, each read as one of four kinds:

* scope and the statistical qualifiers above (soft);
* a qualifier that only wraps or localises what is counted (harmless): the administrative unit of
  counting (事项、项目、工作、任务、行为、情况、设置、建设), the statistics' default population (常住、
  全体、全社会、居民 and 城乡居民 — not 城镇居民 or 农村居民), the overall figure of a survey or score
  (综合/总体/整体 before the head), 平均, 具备条件的, 计划 in a completion rate, 服务半径 after a
  distance, a particle (中、之、所; 业 after a sector), and the setting a measure always has (物业管理 is
  of 住宅小区, 机械化清扫 of 道路, 污泥 comes from 污水处理厂, 加装电梯 is into 既有住宅, renovation is of
  老旧小区, the 15分钟 生活圈 is the 社区生活圈 of GB 50180, 避难场所 are 应急, 道路交通噪声 is measured
  on the 干线, 秸秆 are of 农作物, 社区 are 居住社区);
* a qualifier that changes the quantity (narrowing): other places (农村、乡镇、城乡 …), another
  population (城镇居民 vs 居民, 户籍), a sub-class of the object (餐厨/建筑垃圾, 工业, 医疗, 屋顶/立体/
  附属/防护绿化, 社区/综合公园, 微型, 普惠, 公办, 新能源, 二次, 管道, 轨道 …), a part of the stock
  (新建、新增、存量、老旧、重点、一般), and 人均 against a total (the unit table cannot tell 元 per head
  from 亿元 of GDP);
* anything else (other).

The score: when *both* names have parts the other lacks (公园 vs 公共, 开工 vs 完工), or an urban area
(建成区、县城、镇区) stands against a whole territory (县域、全市、镇域), each names something the other
does not — a substitution — and the bigram Dice coefficient of the names without their soft words
is halved; so it is when one side only has a narrowing qualifier. When one side's extra parts are
all soft or harmless, the names are compared by containment: score 1. An extra part of unknown
meaning on one side keeps the Dice coefficient, so it passes only when short against a long
common part. The threshold (``DEFAULT_THRESHOLD``) was chosen on the development sets, never on
the frozen one; a missed match is still offered for manual pairing, which costs less than a wrong merge.

Why our own code: no library matches Chinese indicator names with unit and direction guards.
Fuzzy string matchers (difflib, rapidfuzz) score 开工率 against 完工率 as near-identical and know
nothing of units; segmenters (jieba) split words but do not know which qualifiers change a
quantity, and loading one costs more time than the whole merge is allowed. The rules here are a
page of data-like code an office can check against the evidence each proposal carries.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from . import units as unit_table

MEASURES_FILE = Path(__file__).parent / "data" / "measures.yaml"
DIRECTIONS = ("higher", "lower", "band", "")  # "" = qualitative (a requirement met or not)
_DROP = re.compile(r"[\s\u3000·・、，,（）()【】\[\]“”\"'《》<>]+")


def normalise_name(name: str) -> str:
    """An indicator name as compared: NFKC (full-width letters and digits to ASCII), spaces,
    brackets, quotes and separators dropped, ASCII lower-cased."""
    return _DROP.sub("", unicodedata.normalize("NFKC", name or "")).lower()


@dataclass(frozen=True)
class Measure:
    """A canonical measure: what several campaigns' indicators measure alike."""

    code: str
    name: str
    unit: str  # a unit of the unit table ("" dimensionless or qualitative)
    direction: str  # higher / lower / band / "" (qualitative)
    synonyms: tuple[str, ...] = ()  # other names, older names
    note: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


_UNIT_SPLIT = re.compile(r"[/·・]")
_SCALE = re.compile(r"^(?:每)?([十百千万亿]+)(.+)$")


def _unit_person_word(part: str) -> str:
    """名 counts persons (人/万人 = 名/万人, 千名老年人 = 千老年人); 老年人 = 老人; 标准煤 = 标煤."""
    part = "人" if part == "名" else part.replace("名", "")
    return part.replace("老年人", "老人").replace("标准煤", "标煤").replace("辆", "车")


def _unit_part_compatible(a: str, b: str) -> bool:
    a, b = _unit_person_word(a), _unit_person_word(b)
    if a == b:
        return True
    if unit_table.known(a) and unit_table.known(b):
        return unit_table.same_dimension(a, b)
    sa, sb = _SCALE.match(a), _SCALE.match(b)  # 千人 against 万人, 万车 against 车: one thing counted
    return (sa.group(2) if sa else a) == (sb.group(2) if sb else b) and bool(sa or sb)


def units_compatible(a: str, b: str) -> bool:
    """Two indicator units measure the same dimension: both known to the unit table with the same
    dimension; or the same unit written alike (岁 and 岁, though the table has no 岁); or compound
    units (公里/万人, 立方米/万元, 人/万车) whose parts are so, part by part (千米/万人 = 公里/万人,
    个/千人 = 个/万人; 公里/万人 ≠ 公里/平方公里)."""
    try:
        if unit_table.same_dimension(a, b):
            return True
    except unit_table.UnitError:
        pass
    a, b = (unicodedata.normalize("NFKC", x or "").replace(" ", "") for x in (a, b))
    if a == b:
        return True
    pa, pb = _UNIT_SPLIT.split(a), _UNIT_SPLIT.split(b)
    if len(pa) < 2 or len(pa) != len(pb) or a.count("/") != b.count("/"):
        return False
    try:
        return all(_unit_part_compatible(x, y) for x, y in zip(pa, pb, strict=True))
    except unit_table.UnitError:
        return False


def directions_compatible(a: str, b: str) -> bool:
    """Same direction, or a band against a one-sided threshold of either side."""
    return a == b or "band" in (a, b) and "" not in (a, b)


@dataclass(frozen=True)
class Dictionary:
    """The canonical measures by code, and every normalised name → the codes it names."""

    measures: dict[str, Measure]
    by_name: dict[str, tuple[str, ...]] = field(default_factory=dict)
    confirmed: tuple[tuple[str, str, str], ...] = ()  # (indicator name, unit, code) people confirmed

    @classmethod
    def from_measures(cls, measures: Iterable[Measure], confirmed: Iterable[tuple[str, str, str]] = ()
                      ) -> Dictionary:
        by_code: dict[str, Measure] = {}
        for m in measures:
            if m.code in by_code:
                raise ValueError(f"规范指标代码重复：{m.code}")
            if m.direction not in DIRECTIONS:
                raise ValueError(f"规范指标 {m.code} 的方向 {m.direction!r} 未知")
            unit_table.unit(m.unit)  # raises UnitError for a unit the table does not know
            by_code[m.code] = m
        confirmed = tuple(confirmed)
        by_name: dict[str, list[str]] = {}
        for m in by_code.values():
            for name in m.names:
                codes = by_name.setdefault(normalise_name(name), [])
                if m.code not in codes:
                    codes.append(m.code)
        for name, _unit, code in confirmed:
            if code not in by_code:
                raise ValueError(f"确认的匹配指向不存在的规范指标 {code}")
            codes = by_name.setdefault(normalise_name(name), [])
            if code not in codes:
                codes.append(code)
        return cls(by_code, {k: tuple(v) for k, v in by_name.items()}, confirmed)

    @classmethod
    def shipped(cls) -> Dictionary:
        return _shipped()

    def extended(self, confirmed: Iterable[tuple[str, str, str]]) -> Dictionary:
        """This dictionary with people's confirmed matches (indicator name, unit, measure code)."""
        return Dictionary.from_measures(self.measures.values(), (*self.confirmed, *confirmed))

    def lookup(self, name: str, unit: str, direction: str) -> Measure | None:
        """The measure an indicator of this name, unit and direction is, or None."""
        for code in self.by_name.get(normalise_name(name), ()):
            m = self.measures[code]
            if units_compatible(m.unit, unit) and directions_compatible(m.direction, direction):
                return m
        return None

    def without_names(self) -> Dictionary:
        """The measures with no names to look up (to measure the matcher on its own)."""
        return replace(self, by_name={}, confirmed=())


def load_measures(path: Path = MEASURES_FILE) -> list[Measure]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for row in data.get("measures", []):
        out.append(Measure(code=str(row["code"]), name=str(row["name"]), unit=str(row.get("unit") or ""),
                           direction=str(row.get("direction", "higher") or ""),
                           synonyms=tuple(str(s) for s in row.get("synonyms", ()) or ()),
                           note=str(row.get("note", "") or "")))
    return out


@functools.cache
def _shipped() -> Dictionary:
    return Dictionary.from_measures(load_measures())


# ---------------------------------------------------------------------------------------------
# The matcher (see the module docstring for the rules and why they are what they are)

# chosen on the development sets (match_pairs_dev.csv, _dev2 … _dev6), never on the frozen set:
# of 0.50, 0.55 … 0.95 those with precision ≥ 0.97 on each set and on all together, the highest F1 on
# all together, of a tie the lowest (test_matching.py checks the rule)
DEFAULT_THRESHOLD = 0.8
SUBSTITUTION_FACTOR = 0.5  # both names have parts the other lacks: usually two different measures

_BRACKETED = re.compile(r"[（(【\[]([^）)】\]]*)[）)】\]]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[a-z]+")
_ROMAN = re.compile(r"^[ivx]+$")
# one quantity, two spellings: standard abbreviations written out, older names by their newer ones,
# the chemical formula for a pollutant's Chinese name (GB 3095) — applied before numbers are read
_CANONICAL = tuple((re.compile(p), full) for p, full in (
    ("公厕", "公共厕所"), ("公交", "公共交通"), ("规上", "规模以上"), ("控规", "控制性详细规划"),
    ("gdp", "地区生产总值"), ("环评", "环境影响评价"), ("机扫", "机械化清扫"), ("(?<![^区市城县镇])路网", "道路网"),
    ("公共绿地", "公园绿地"),  # the green-space class renamed by CJJ/T 85-2002
    ("用气(?=普及)", "燃气"), ("用水(?=普及)", "供水"),  # the yearbook's older names of 燃气/供水普及率
    ("(?:(?<=无害化)|(?<=集中))处置", "处理"), ("按时", "按期"),
    ("r&d", "研究与试验发展"), ("社零", "社会消费品零售"), ("数字化(?=城管|城市管理)", "数字"),
    ("万元(?=地区生产总值|gdp|工业增加值)", "单位"),  # 万元GDP能耗 is 单位GDP能耗, per 10,000 yuan
    ("路灯|道路照明设施", "道路照明"), ("管道(?=密度|长度)", "管网"), ("合格(?=率)", "达标"),
    ("人数(?=比例|占比|比重)", "人口"), ("(?:人均|平均)(?=预期寿命)", ""),
    ("重污染", "重度以上污染"),  # HJ 633: 重污染 is 重度及以上污染
    ("(?<!燃)气化(?=率)", "燃气普及"), ("污水再生利用", "再生水利用"),  # the yearbook's older names
    ("物业管理", "物业服务"),  # renamed by the 2018 revision of the 物业管理条例's terms
    ("旅游(?=景区)", ""),  # the A-grades are of 旅游景区, written 景区 for short
    (r"(?:pm2\.5)?细颗粒物(?:pm2\.5)?", "pm2.5"), (r"(?:pm10)?可吸入颗粒物(?:pm10)?", "pm10"),
    ("臭氧", "o3"), ("二氧化氮", "no2"), ("二氧化硫", "so2"), ("二氧化碳", "co2"),
    ("线路网", "线网"),  # 公交线路网密度 is the 线网密度 of CJJ/T 114
    ("固废", "固体废物"), ("城管(?!局|部门|执法)", "城市管理"), ("研发", "研究与试验发展"),
    ("公共汽电车", "公共交通车"), ("国内生产总值", "地区生产总值"), ("能源消耗", "能耗"),
    ("车辆", "车"), ("(?<=[主次])干道", "干路"),  # CJJ 37 writes 主干路
    ("住房价格", "房价"), ("蟑螂", "蜚蠊"), ("资源化利用", "资源利用"), ("(?<!截)至(?!少|今)", "到"),
    (r"^按(.+?)计算的?", r"\1"),  # “按户籍人口计算的城镇化率” = “户籍人口城镇化率”
    (r"达到(.+?)要求的?", r"\1达标"),  # “达到海绵城市建设要求的面积” = “海绵城市建设达标面积”
    ("准点", "正点"), ("周岁", "岁"), (r"需要(?=进行|\S*改造|\S*加装)", "需"),
    ("建制村", "行政村"),  # 建制村 is the transport ministry's word for 行政村
    ("12345(?:政务服务便民|政务服务|便民服务|市民服务|便民|市民)热线", "12345热线"),  # the hotline's full names
    # definitions written out for 优良 (good or excellent): air of GB 3095 grade 2 or better, or an
    # API/AQI of at most 100 (HJ 633); surface water of GB 3838 class III or better (水十条)
    (r"空气(?:污染|质量)指数(?:api|aqi)?(?:≤|<=|不超过|小于等于)100的?天数", "空气质量优良天数"),
    (r"空气质量(?:达到|好于|优于)(?:或好于|或优于)?(?:国家)?(?:1、?)?(?:2|二)级(?:以上)?(?:标准)?的?天数",
     "空气质量优良天数"),
    (r"(?:水质)?(?:优良)?(?:达到或好于|达到或优于|优于或达到|好于或达到)(?:iii|3)类(?:以上)?(?:水质|水体)?", "优良"),
    (r"(?<=水)(?:水质优良|优良水体|优良水质)", "优良"),
))
# numbers written in Chinese before a measure word (二级 = 2级, 十五分钟 = 15分钟, 六层 = 6层), star
# grades by letters (AAAA级 = 4A级), metres by their symbol after a number (500m = 500米); and
# 及以上/及以下, which statistics count the same as 以上/以下 (the bound itself included)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[一二两三四五六七八九十][一二两三四五六七八九十百千零]*"
                        r"(?=级|类|岁|层|分钟|小时|星|周岁|公里|千米|米(?!饭)|年(?!龄|度|均|平均))")
_STAR_GRADE = re.compile(r"(?<![a-z])(a{2,5})(?=级|景区)")
_METRE = re.compile(r"(?<=\d)(km|m)(?![a-z²2³3])")
_AND_BEYOND = re.compile(r"及(?=以上|以下)")


_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _cn_number(text: str) -> str:
    """一 … 九千九百九十九 written in Chinese as digits (十五 = 15, 五百 = 500, 一千二 stays);
    a run of digits (二〇) digit by digit; anything else as written."""
    if not any(c in _CN_UNITS for c in text):
        return "".join(str(_CN_DIGITS[c]) for c in text) if all(c in _CN_DIGITS for c in text) else text
    total, digit, last_unit = 0, None, 10_000
    for c in text:
        if c in _CN_DIGITS:
            if digit is not None and c != "零":
                return text  # two digits in a row: not a number we read
            digit = None if c == "零" else _CN_DIGITS[c]
            continue
        unit = _CN_UNITS[c]
        if unit >= last_unit or digit is None and c != "十":
            return text  # 百十, or 百 without its digit
        total += (1 if digit is None else digit) * unit  # 十五: 十 alone is one ten
        digit, last_unit = None, unit
    return str(total + (digit or 0))


def _numerals(text: str) -> str:
    text = _CN_NUMBER.sub(lambda m: _cn_number(m.group()), text)
    text = _STAR_GRADE.sub(lambda m: f"{len(m.group(1))}a", text)
    text = _METRE.sub(lambda m: "公里" if m.group(1) == "km" else "米", text)
    return _AND_BEYOND.sub("", text)


# respondents are one word only in survey measures (满意度、支持率 …); elsewhere 居民 is a population
_SURVEY = re.compile(r"满意|支持|知晓|参与|认可|好评|安全感|获得感|幸福感")
_RESPONDENTS = re.compile(r"(?:办事)?(?:人民群众|群众|居民|公众|市民|百姓)(?:对)?")
_PER_POPULATION = re.compile(r"每?(?:[百千万]|十万)名?(?:常住)?(?:人口|居民|老年人口|老年人|老人|人)(?!次)(?:拥有)?"
                             r"|每平方公里")
# “甲占乙比例” = “乙中甲占比”: the share written from either end
_SHARE_OF = re.compile(r"^(.+?)占(?![地用])(.+)$")
# words that may be left out without changing the quantity: place scope, and the statistical
# qualifiers of one quantity; harmless when the other name just omits them, a contrast when the
# other name has another word there (城市 vs 农村, 生活垃圾 vs 餐厨垃圾). 城镇居民/城镇人口 are a
# population class of the statistics (against 农村居民), not a scope.
_URBAN_AREA = r"中心城区|建成区|城区|市区|镇区|建制镇|县城"
# a town's area against a city's or county seat's is two places (镇区生活污水 vs 城市污水)
_TOWN_WORD = re.compile(r"镇区|建制镇|镇域")
_CITY_WORD = re.compile(r"城市|中心城区|城区|市区|县城|全市|市域")
_TERRITORY = r"全市|全县|县域|市域|镇域"
_SOFT = rf"(?:{_URBAN_AREA}|{_TERRITORY}|城市|城镇(?!居民|人口|常住))(?!化)|生活(?=污水|垃圾|粪便)" \
        r"|集中(?=处理)|环境(?=空气)"
_SOFT_WORD = re.compile(_SOFT)
_URBAN_WORD = re.compile(_URBAN_AREA)
_TERRITORY_WORD = re.compile(_TERRITORY)
# qualifiers that wrap or restate what is counted, harmless on one side only: the administrative
# unit of counting (事项、项目、工作、建设), the statistics' default population (常住、全体), the
# overall figure of a survey or score (综合/总体/整体 before the head), a particle (中、之、所), and
# the setting a measure always has (物业管理 is of 住宅小区; 机械化清扫 of 道路; 污泥 comes from
# 污水处理厂; 加装电梯 is into 既有住宅; the 15-minute 生活圈 is the 社区生活圈 of GB 50180)
_HARMLESS = r"事项|项目|工作|任务|行为|情况|设置|发生|各类|完成$|建设(?!用地|投资|资金|规模)" \
            r"|常住|全体|全社会|(?<![城农乡])居民" \
            r"|具备条件|计划(?=\S*完成$)|(?<=米)服务半径|城乡居民|老旧小区(?=\S*(?:改造|加装))" \
            r"|平均(?!值)|(?:综合|总体|整体)$|^[中之所]$" \
            r"|(?:住宅)?小区(?=物业)|住宅(?=小区)|道路(?=机械化清扫)|(?:城镇)?污水处理厂(?=污泥)" \
            r"|既有(?:住宅|建筑)?(?=加装)|社区(?=生活圈)|应急(?=避难)|(?<=交通)干线(?=噪声)|农作物(?=秸秆)" \
            r"|居住(?=社区)"
_HARMLESS_WORD = re.compile(_HARMLESS)
# qualifiers that name another or a narrower set of what is counted: other places (农村、乡镇 …,
# 城乡 adds the villages), another population (城镇居民 vs 居民, 户籍), a sub-class of the object
# (餐厨/厨余/建筑垃圾, 工业, 医疗, 危险; 屋顶/立体/垂直/附属/防护绿化; 社区/综合/专类公园; 微型;
# 普惠/公办/民办; 新能源; 二次供水; 管道燃气; 轨道; 地下), or a part of the stock (新建、新增、既有、
# 存量、老旧、重点、一般); and 人均 on one side only is a per-head figure against a total (the unit
# table cannot tell 元 of income per head from 亿元 of GDP). On one side only they make another
# measure: the score is halved.
_NARROWING = re.compile(
    r"人均|农村|乡村|乡镇|村庄|行政村|城乡|城镇(?=居民|人口|常住)|户籍|工业|餐厨|厨余|建筑(?=垃圾)|医疗|危险"
    r"|屋顶|立体|垂直|附属|防护|社区(?=公园)|综合(?=公园)|专类|微型|普惠|公办|民办|新能源|二次|管道|轨道"
    r"|地下|新建|新增|既有(?!住宅加装|建筑加装|加装)|存量|老旧|重点|一般|主要")
_FILLERS = re.compile(r"的|拥有|年度|全年|进行|(?<![平相高中初同对均])等(?![级效候待同于])")  # 等: “养老、托育等”
_AVERAGE = re.compile(r"年平均|年均")
# the kind of quantity a name's head names, longest suffix first; "" = restates the unit
_KINDS = (
    ("增长率", "增速"), ("增速", "增速"), ("增幅", "增速"),
    ("降低率", "降幅"), ("下降率", "降幅"), ("降幅", "降幅"), ("下降比例", "降幅"), ("降低比例", "降幅"),
    ("下降幅度", "降幅"),
    ("满意度", "满意度"), ("满意率", "满意度"),
    ("比例", "占比"), ("占比", "占比"), ("比重", "占比"), ("比率", "占比"), ("率", "占比"),
    ("之比", "比值"), ("比值", "比值"), ("比", "比值"),  # a ratio of two things (收入比, 车桩比)
    ("指数", "指数"), ("浓度", "浓度"), ("平均值", "平均值"), ("均值", "平均值"),
    ("得分", "得分"), ("成绩", "得分"), ("度", "度"),
    ("面积", ""), ("长度", ""), ("数量", ""), ("个数", ""), ("总数", ""), ("起数", ""), ("户数", ""),
    ("人数", ""), ("次数", ""), ("数", ""), ("水平", ""),
    ("总人次", ""), ("人次", ""), ("总量", ""), ("量", ""),
)
# 量 ends words that are not a measure word: 质量、含量、能量、容量 … name their own quantity
_NOT_MEASURE_WORD = re.compile(r"(?:质|含|能|容|力|重|流|剂)量$")
_DIRECTION_WORDS = {"higher": "越高越好", "lower": "越低越好", "band": "目标区间", "": "定性（达到与否）"}


@dataclass(frozen=True)
class _Analysed:
    """A name as the matcher compares it."""

    content: str  # what the name counts, after the harmless words are removed and the head split off
    kind: str  # the kind of quantity ("" when the head only restates the unit)
    head: str  # the head as written (率, 比例, 满意度 …)
    numbers: tuple[str, ...]
    dropped: tuple[str, ...]  # harmless words removed, for the evidence
    firm: str = ""  # the content without its soft words (what the score compares)
    firm_grams: frozenset[str] = frozenset()
    rewritten: tuple[str, ...] = ()  # spellings made one (“公共绿地→公园绿地”), for the evidence
    denominator: str = ""  # “甲占乙比例”: 乙, the whole the share is of
    core: str = ""  # and 甲 without its measure word and 乙's object (what a plain “…率” names)


@dataclass(frozen=True)
class Match:
    """How alike two indicators are: the score in [0, 1] (0 when a guard fails), the parts both
    names share, the parts only one has, whether unit and direction agree, and the evidence."""

    score: float
    compatible: bool
    shared: tuple[str, ...] = ()
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A proposed match of an indicator to a canonical measure, for a person to confirm or reject."""

    code: str
    name: str
    score: float
    evidence: tuple[str, ...]


# a bracketed note on how a figure is computed or what it includes (“（按城区常住人口计算）”,
# “（含自建设施供水）”) restates the statistics' definition: it does not make another quantity
_CALCULATION_NOTE = re.compile(r"^(?:按|以|含|不含|包括|包含|不包括|均按|其中)")


def _drop_glosses(text: str) -> str:
    """Bracketed units (“（%）”), Latin glosses (“（EI）”) and calculation notes dropped; other
    brackets kept as text."""

    def keep(m: re.Match) -> str:
        inner = m.group(1).strip()
        if _LATIN.fullmatch(inner.lower()) or (inner and unit_table.known(inner)) or _CALCULATION_NOTE.match(inner):
            return ""
        return inner

    return _BRACKETED.sub(keep, text)


_TRAILING = re.compile(r"^(.+?)[（(]([^（）()]+)[）)]$")


def _front_trailing_qualifier(text: str) -> str:
    """“绿化覆盖率（建成区）” = “建成区绿化覆盖率”: a qualifier bracketed after the head belongs
    before it (a bracketed unit or Latin gloss is dropped later)."""
    m = _TRAILING.match(text.strip())
    if not m:
        return text
    inner = m.group(2).strip()
    if _LATIN.fullmatch(inner.lower()) or unit_table.known(inner) or _CALCULATION_NOTE.match(inner):
        return text
    return inner.removesuffix("口径") + m.group(1)  # “城镇化率（常住人口口径）”: 常住人口城镇化率


@functools.lru_cache(maxsize=65536)
def _analyse(name: str) -> _Analysed:
    text = _front_trailing_qualifier(unicodedata.normalize("NFKC", name or ""))
    text = normalise_name(_drop_glosses(text))
    rewritten: list[str] = []
    text = _numerals(text)
    for pattern, full in _CANONICAL:
        for m in pattern.finditer(text):
            if m.group() != full and f"{m.group()}→{full}" not in rewritten:
                rewritten.append(f"{m.group()}→{full}")
        text = pattern.sub(full, text)
    numbers = _NUMBER.findall(text) + [w for w in _LATIN.findall(text) if _ROMAN.match(w)]
    dropped: list[str] = []

    def drop(pattern: re.Pattern, repl: str = "") -> None:
        nonlocal text
        for m in pattern.finditer(text):
            if m.group() and m.group() not in dropped:
                dropped.append(m.group())
        text = pattern.sub(repl, text)

    drop(_PER_POPULATION)
    if _SURVEY.search(text):
        text = _RESPONDENTS.sub("群众", text)
    drop(_FILLERS)
    text = _AVERAGE.sub("平均", text)
    kind = head = ""
    for suffix, k in _KINDS:
        if text.endswith(suffix) and len(text) > len(suffix) and not (
                suffix == "量" and _NOT_MEASURE_WORD.search(text)):
            kind, head, text = k, suffix, text[: -len(suffix)]
            break
    if kind == "占比" and text.endswith("占"):
        text = text[:-1]  # “天数占全年比例”: the whole is the year, a filler; what is left is a plain share
    denominator = core = ""
    if kind == "占比" and (m := _SHARE_OF.match(text)):
        text = f"{_COUNT_WORD.sub('', m.group(2)) or m.group(2)}中{m.group(1)}"
        denominator = m.group(2)
        whole = _MEASURE_WORD.sub("", re.sub("^(?:总|全部)|总(?=面积|量|数|人口)", "", denominator))
        core = _MEASURE_WORD.sub("", m.group(1))
        if whole and core.endswith(whole) and len(core) > len(whole):
            core = core[: -len(whole)]  # 覆盖的居住用地面积 of 居住用地总面积: 覆盖
    if kind == "占比" and len(text) > 2:
        # the share's part named with its measure word (“绿色建筑面积占比”, “注册志愿者人数占”): the
        # share is of the things themselves (not 量: 处理量 against 处理能力 is another quantity)
        text = _COUNT_WORD.sub("", text)
    firm = _SOFT_WORD.sub("", text)
    return _Analysed(text, kind, head, tuple(sorted(numbers)), tuple(dropped), firm, _grams(firm),
                     tuple(rewritten), denominator, core)


# the measure word ending the two sides of a share (“处理量占清运量”, “绿地面积占建成区面积”)
_MEASURE_WORD = re.compile(r"(?:面积|总量|数量|人数|户数|个数|次数|长度|量|数)$")


_COUNT_WORD = re.compile(r"(?:面积|数量|人数|户数|个数|次数)$")


def _has_whole(an: _Analysed) -> bool:
    """The name says what its share is of: “甲占乙比例” or “乙中甲占比”."""
    return bool(an.denominator) or an.kind == "占比" and "中" in an.content[1:-1]


def _as_plain_rate(an: _Analysed) -> _Analysed:
    """A share written out (“甲占乙的比例”) as the plain rate names it (“甲率”): against a name
    without a denominator, the denominator is the definition's, not another quantity."""
    firm = _SOFT_WORD.sub("", an.core)
    return replace(an, content=an.core, firm=firm, firm_grams=_grams(firm),
                   dropped=(*an.dropped, f"分母“{an.denominator}”"))


_PER_AREA_UNIT = re.compile(r"/(?:平方公里|平方千米|km²|km2|公顷|hm²)$")


@functools.lru_cache(maxsize=65536)
def _analyse_in(name: str, unit: str) -> _Analysed:
    """A name as compared, with what its unit says read into it."""
    return _read_unit(_analyse(name), unit)


def _read_unit(an: _Analysed, unit: str) -> _Analysed:
    """What the unit says about the name: a 密度 in a unit per area (座/平方公里) is the count the unit
    says (公厕设置密度 = 每平方公里公厕数); a score (得分、成绩) in 分 and a name without a head in 分 are
    one; a name without a head in % is a share (城镇化水平 % = 城镇化率); a name ending in its unit's
    word (食品抽检批次 in 批次/千人, 事故起 in 起) restates it."""
    unit = unicodedata.normalize("NFKC", unit or "").replace(" ", "")
    content, kind, head = an.content, an.kind, an.head
    if kind == "度" and content.endswith("密") and _PER_AREA_UNIT.search(unit):
        content, kind, head = content[:-1], "", ""
    elif kind == "得分" and unit == "分":
        kind, head = "", ""
    elif kind == "" and unit in ("%", "％", "百分比"):
        kind = "占比"
    word = unit.partition("/")[0]
    if word and not word[0].isascii() and content.endswith(word) and len(content) > len(word) + 1:
        content = content[: -len(word)]
    if (content, kind, head) == (an.content, an.kind, an.head):
        return an
    firm = _SOFT_WORD.sub("", content)
    return replace(an, content=content, kind=kind, head=head, firm=firm, firm_grams=_grams(firm))


def _grams(s: str) -> frozenset[str]:
    return frozenset(s[i : i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset(s)


def _dice(a: str, b: str) -> float:
    """Dice coefficient of the two strings' character bigrams (1 for two empty strings)."""
    if a == b:
        return 1.0
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def _cover(s: str, other: frozenset[str]) -> list[bool]:
    """Which characters of ``s`` lie in a bigram (or, for one-character names, the character)
    the other name also has."""
    covered = [False] * len(s)
    if len(s) == 1:
        covered[0] = s in other or any(s in g for g in other)
        return covered
    for i in range(len(s) - 1):
        if s[i : i + 2] in other:
            covered[i] = covered[i + 1] = True
    return covered


def _runs(s: str, covered: list[bool], want: bool) -> list[str]:
    out, cur = [], ""
    for ch, c in zip(s, covered, strict=True):
        if c == want:
            cur += ch
        elif cur:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


SOFT, HARMLESS, NARROWING, OTHER = "soft", "harmless", "narrowing", "other"
# another object joined to what is counted (“生活垃圾及粪便” against “粪便”): a broader quantity
_JOINED = re.compile(r"^(?:.+[及和与、]|[及和与、].+)$")
_PARTICLES = frozenset("中之所业")  # particles, and 业 after a sector (旅游业 = 旅游)


def _mask(pattern: re.Pattern, s: str) -> list[bool]:
    out = [False] * len(s)
    for m in pattern.finditer(s):
        out[m.start() : m.end()] = [True] * (m.end() - m.start())
    return out


def _spans(s: str, covered: list[bool]) -> list[tuple[str, str]]:
    """The parts of ``s`` no shared bigram covers, each with its class: all scope or statistical
    qualifiers (SOFT), all those or wrapping words (HARMLESS), holding a qualifier that names
    another or a narrower set (NARROWING), or anything else (OTHER). The words are found in the
    whole name, so 环境 is soft only where 空气 follows it."""
    soft, harmless = _mask(_SOFT_WORD, s), _mask(_HARMLESS_WORD, s)
    narrowing = [(m.start(), m.end()) for m in _NARROWING.finditer(s)]
    out, start = [], None
    for i, c in enumerate([*covered, True]):
        if not c and start is None:
            start = i
        elif c and start is not None:
            part = s[start:i]
            if all(soft[start:i]):
                cls = SOFT
            elif part in _PARTICLES or all(x or y for x, y in zip(soft[start:i], harmless[start:i], strict=True)):
                cls = HARMLESS
            elif any(start <= ns and ne <= i for ns, ne in narrowing) or _JOINED.match(part):
                cls = NARROWING
            else:
                cls = OTHER
            out.append((part, cls))
            start = None
    return out


@functools.lru_cache(maxsize=4096)
def _units_ok(a: str, b: str) -> bool:
    return units_compatible(a, b)


@functools.lru_cache(maxsize=4096)
def _unit_words(a: str, b: str) -> str:
    ua, ub = (unit_table.unit(x).code or "无单位" if unit_table.known(x) else x for x in (a, b))  # ％ is %
    if ua == ub:
        return f"单位同为 {ua}"
    if unit_table.known(a) and unit_table.known(b):
        return f"单位 {ua} 与 {ub} 同量纲，可换算"
    return f"单位 {ua} 与 {ub} 逐项同量纲"


def similarity(a_name: str, a_unit: str, a_direction: str, b_name: str, b_unit: str, b_direction: str) -> Match:
    """How alike indicator a and indicator b are, with the evidence (see the module docstring)."""
    ua, ub = (a_unit or "").strip(), (b_unit or "").strip()
    if not _units_ok(ua, ub):
        known = unit_table.known(ua) and unit_table.known(ub)
        why = "量纲不同" if known else "单位表不认识其中的单位"
        return Match(0.0, False, evidence=(f"单位不相容：{ua or '无单位'} 与 {ub or '无单位'}（{why}），不提议",))
    if not directions_compatible(a_direction, b_direction):
        da, db = _DIRECTION_WORDS.get(a_direction, a_direction), _DIRECTION_WORDS.get(b_direction, b_direction)
        return Match(0.0, False, evidence=(f"方向不相容：{da} 与 {db}，不提议",))
    a, b = _analyse_in(a_name, ua), _analyse_in(b_name, ub)
    if a.core and not _has_whole(b):
        a = _as_plain_rate(a)
    elif b.core and not _has_whole(a):
        b = _as_plain_rate(b)
    if a.numbers != b.numbers:
        na, nb = "、".join(a.numbers) or "无", "、".join(b.numbers) or "无"
        return Match(0.0, False, evidence=(f"名称中的数字不同：{na} 与 {nb}，不提议",))
    if a.kind != b.kind:
        ka, kb = a.head or "（未写明）", b.head or "（未写明）"
        return Match(0.0, False, evidence=(f"量的类别不同：“{ka}”与“{kb}”，不提议",))
    ga, gb = _grams(a.content), _grams(b.content)
    ca, cb = _cover(a.content, gb), _cover(b.content, ga)
    runs_a, runs_b = _spans(a.content, ca), _spans(b.content, cb)
    # the same word on both sides in another place (年接待游客 / 年游客接待, 火灾十万人口死亡率 /
    # 十万人口火灾死亡率) is an order of words, not a difference
    moved = [r for r, _cls in runs_a if any(r == x for x, _c in runs_b)]
    if moved:
        runs_a = [(r, cls) for r, cls in runs_a if r not in moved]
        runs_b = [(r, cls) for r, cls in runs_b if r not in moved]
    firm_a = [r for r, cls in runs_a if cls in (OTHER, NARROWING)]
    firm_b = [r for r, cls in runs_b if cls in (OTHER, NARROWING)]
    # a substitution: each name has a part the other lacks (a scope word against another word too);
    # an urban area (建成区、县城 …) against a whole territory (县域、全市 …) is one as well
    scope_a, scope_b = "".join(r for r, _cls in runs_a), "".join(r for r, _cls in runs_b)
    scope_contrast = bool(_URBAN_WORD.search(scope_a) and _TERRITORY_WORD.search(scope_b)
                          or _TERRITORY_WORD.search(scope_a) and _URBAN_WORD.search(scope_b)
                          or _TOWN_WORD.search(scope_a) and _CITY_WORD.search(scope_b)
                          or _CITY_WORD.search(scope_a) and _TOWN_WORD.search(scope_b))
    substitution = bool(firm_a and runs_b or firm_b and runs_a or scope_contrast)
    narrowed = tuple(r for r, cls in (*runs_a, *runs_b) if cls == NARROWING) if not substitution else ()
    excused = () if substitution else tuple(dict.fromkeys(
        r for r, cls in (*runs_a, *runs_b) if cls in (SOFT, HARMLESS)))
    only_a = tuple(r for r, _cls in runs_a if r not in excused)
    only_b = tuple(r for r, _cls in runs_b if r not in excused)
    shared = tuple(dict.fromkeys(_runs(a.content, ca, True)))
    if substitution or narrowed:
        score = _dice(a.firm, b.firm) * SUBSTITUTION_FACTOR
    elif not (firm_a or firm_b):
        score = 1.0  # containment: what one name has beyond the other only localises or wraps it
    else:
        score = _dice(a.firm, b.firm)  # an extra part of unknown meaning: judged by its length
    score = round(score, 4)
    evidence = []
    parts = list(shared)
    if a.head or b.head:
        parts.append(a.head if a.head == b.head else f"{a.head or '—'}/{b.head or '—'}")
    evidence.append("共同部分：" + ("、".join(parts) if parts else "无"))
    if only_a or only_b:
        text = f"不同部分：甲有“{'、'.join(only_a) or '—'}”，乙有“{'、'.join(only_b) or '—'}”"
        if scope_contrast:
            text += "（城区与全域范围不同，多为不同指标，得分减半）"
        elif substitution:
            text += "（两边各有对方没有的部分，多为不同指标，得分减半）"
        elif narrowed:
            text += f"（“{'、'.join(narrowed)}”改变了所计的对象或量，多为不同指标，得分减半）"
        evidence.append(text)
    rewritten = tuple(dict.fromkeys((*a.rewritten, *b.rewritten)))
    if rewritten:
        evidence.append("写法统一：" + "、".join(rewritten))
    ignored = tuple(dict.fromkeys((*a.dropped, *b.dropped, *excused)))
    if ignored:
        evidence.append("不计差别：" + "、".join(ignored))
    if a.numbers:
        evidence.append("名称中的数字相同：" + "、".join(a.numbers))
    evidence.append(_unit_words(ua, ub))
    if a_direction == b_direction:
        evidence.append(f"方向同为{_DIRECTION_WORDS.get(a_direction, a_direction)}")
    else:
        evidence.append(f"方向 {_DIRECTION_WORDS[a_direction]} 与 {_DIRECTION_WORDS[b_direction]} 相容")
    return Match(score, True, shared, only_a, only_b, tuple(evidence))


def propose(name: str, unit: str, direction: str, candidates: Iterable[Measure], *,
            threshold: float = DEFAULT_THRESHOLD, limit: int = 3) -> list[Proposal]:
    """The measures an indicator may be, best first (score, then code), at most ``limit``, each
    scoring at least ``threshold`` against one of the measure's names. Measures of an incompatible
    unit or direction are never proposed. Deterministic: the same input gives the same list."""
    out = []
    mine = _analyse_in(name, (unit or "").strip())
    for m in candidates:
        best: tuple[float, str, Match] | None = None
        for candidate_name in m.names:
            if threshold > 0:  # cheap rejections first: no shared bigram, another kind or number
                other = _analyse_in(candidate_name, (m.unit or "").strip())
                if (other.kind != mine.kind or other.numbers != mine.numbers
                        or other.firm != mine.firm and not other.firm_grams & mine.firm_grams):
                    continue
            match = similarity(name, unit, direction, candidate_name, m.unit, m.direction)
            if not match.compatible:
                if candidate_name == m.name and match.score == 0 and "不相容" in match.evidence[0]:
                    break  # unit or direction: no other name of this measure can do better
                continue
            if best is None or match.score > best[0]:
                best = (match.score, candidate_name, match)
        if best is not None and best[0] >= threshold:
            score, matched, match = best
            via = () if matched == m.name else (f"按别名“{matched}”比对",)
            out.append(Proposal(m.code, m.name, score, (*via, *match.evidence)))
    out.sort(key=lambda p: (-p.score, p.code))
    return out[:limit]


@dataclass(frozen=True)
class Evaluation:
    """The matcher's figures on a labelled set of pairs."""

    tp: int
    fp: int
    fn: int
    tn: int
    hard_fp: int  # hard negatives (alike names, different measures) wrongly matched

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(pairs: Iterable[dict[str, str]], threshold: float = DEFAULT_THRESHOLD) -> Evaluation:
    """The matcher alone on labelled pairs (rows with a, a_unit, a_direction, b, b_unit,
    b_direction, same, hard — the columns of tests/data/match_pairs.csv): each pair's two names
    compared directly through ``propose``, no dictionary names involved."""
    tp = fp = fn = tn = hard_fp = 0
    for r in pairs:
        other = Measure("b", r["b"], r["b_unit"], r["b_direction"])
        predicted = bool(propose(r["a"], r["a_unit"], r["a_direction"], [other], threshold=threshold))
        same = r["same"] == "1"
        tp += predicted and same
        fp += predicted and not same
        hard_fp += predicted and not same and r["hard"] == "1"
        fn += same and not predicted
        tn += not same and not predicted
    return Evaluation(tp, fp, fn, tn, hard_fp)
