"""Assessment actions: import, export and freeze framework versions; score values; store scorings.

One function per action: it checks the permission, writes the change and the audit record in
one transaction. Frameworks are criteria everyone holding a role may read; supervisors and
administrators import them and score (the same rule as light rule sets).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.chain import record_event
from chengzhen.audit.context import acting_for
from chengzhen.audit.fastinsert import RowWriter, reserve_ids
from chengzhen.org.permissions import Action, require
from chengzhen.problems import Problem, Refused

from . import grading, workbook
from .engine import EngineInputError, Result, Values, compact, score
from .explain import sentence
from .framework import Framework, FrameworkError, dump_framework, from_dict, load_framework, split_name
from .models import Framework as FrameworkRecord
from .models import FrameworkVersion, IndicatorScore, Scoring, ScoringKind, SubjectProfile, SubjectScore
from .rules import RULES

MAX_BYTES = 20 * 1024 * 1024


def _refused(exc: FrameworkError, source: str) -> Refused:
    return Refused([Problem(file=source, row=p.line, column=p.path, reason=p.reason) for p in exc.problems])


def definition_hash(definition: dict) -> str:
    return hashlib.sha256(json.dumps(definition, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def resolve(name: str) -> FrameworkVersion:
    """The version ``CODE`` (its latest) or ``CODE@VERSION`` names."""
    code, label = split_name(name)
    versions = FrameworkVersion.objects.filter(framework__code=code).select_related("framework")
    version = (versions.filter(label=label) if label else versions.order_by("-created_at", "-pk")).first()
    if version is None:
        raise Refused([Problem(reason=_("没有测评体系 %(name)s") % {"name": name})])
    return version


def framework_of(version: FrameworkVersion) -> Framework:
    """The parsed framework a stored version holds (parsed once per content).

    Parsed from the stored YAML, not from ``definition``: PostgreSQL's jsonb reorders mapping keys,
    and the order of subject classes, their values and questionnaire options is what pages and
    sheets show. Both give the same ``as_dict`` (its hash is checked)."""
    return _parsed(version.sha256, version.source, str(version))


@lru_cache(maxsize=64)
def _parsed(sha: str, source: str, name: str) -> Framework:
    # stored text was checked when imported: libyaml's fast loader (no line marks) is enough here,
    # 1.7 s → 0.2 s for a framework of 1,000 leaves
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    fw = from_dict(yaml.load(source, Loader=loader), name)
    if definition_hash(fw.as_dict()) != sha:
        raise ValueError(f"{name}: stored source and definition differ")
    return fw


@dataclass(frozen=True)
class Imported:
    version: FrameworkVersion
    outcome: str  # created | replaced | unchanged

    def message(self) -> str:
        words = {"created": _("已导入为"), "replaced": _("已替换草稿版本"), "unchanged": _("内容未变，仍为")}
        return f"{words[self.outcome]} {self.version}"


def import_framework(user, fw: Framework, *, source_text: str = "", note: str = "") -> Imported:
    """Store a checked framework as ``CODE@VERSION``: a new version, the same one unchanged, or a
    draft replaced. A frozen version (scored in a round) is never replaced."""
    require(user, Action.EDIT, FrameworkVersion)
    definition = fw.as_dict()
    sha = definition_hash(definition)
    with acting_for(user, "import_framework"), transaction.atomic():
        record = FrameworkRecord.objects.select_for_update().filter(code=fw.code).first()
        if record is None:
            record = FrameworkRecord.objects.create(code=fw.code, name=fw.name)
        elif record.name != fw.name:
            record.name = fw.name
            record.save()
        version = FrameworkVersion.objects.filter(framework=record, label=fw.version).first()
        fields = dict(
            name=fw.name,
            status=fw.status,
            source=source_text or dump_framework(fw),
            definition=definition,
            sha256=sha,
            leaves=len(fw.leaves()),
            note=note[:200],
        )
        if version is None:
            version = FrameworkVersion.objects.create(
                framework=record,
                label=fw.version,
                created_by=user if user and user.pk else None,
                created_at=timezone.now(),
                **fields,
            )
            return Imported(version, "created")
        if version.sha256 == sha:
            return Imported(version, "unchanged")
        if version.frozen:
            raise Refused(
                [
                    Problem(
                        reason=_("%(name)s 已用于评分并冻结（%(reason)s），内容不能再改；请改用新的版本号导入")
                        % {"name": version, "reason": version.frozen_reason}
                    )
                ]
            )
        for k, v in fields.items():
            setattr(version, k, v)
        version.save()
    return Imported(version, "replaced")


def read_framework_file(path: str | Path, display_name: str = "") -> tuple[Framework, str]:
    """A framework from a .yaml/.yml or .xlsx file: (framework, source text to keep)."""
    path = Path(path)
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            if path.stat().st_size > MAX_BYTES:
                raise Refused([Problem(file=name, reason=_("文件过大"))])
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused([Problem(file=name, reason=_("无法读取：%(error)s") % {"error": exc})]) from None
        try:
            return load_framework(text, name), text
        except FrameworkError as exc:
            raise _refused(exc, name) from None
    if suffix == ".xlsx":
        fw = workbook.load_framework_xlsx(path, name, max_bytes=MAX_BYTES)
        return fw, dump_framework(fw)
    raise Refused([Problem(file=name, reason=_("测评体系文件应为 .yaml、.yml 或 .xlsx"))])


def import_framework_file(user, path: str | Path, display_name: str = "") -> Imported:
    fw, text = read_framework_file(path, display_name)
    return import_framework(user, fw, source_text=text, note=display_name or Path(path).name)


def export_framework(name: str, output: str | Path) -> Path:
    """Write ``CODE[@VERSION]`` to ``output`` as YAML or Excel, by its extension."""
    version = resolve(name)
    fw = framework_of(version)
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".yaml", ".yml", ".xlsx"):
        raise Refused([Problem(file=out.name, reason=_("导出文件应以 .yaml、.yml 或 .xlsx 结尾"))])
    try:
        if suffix == ".xlsx":
            workbook.write_framework(fw, out)
        else:
            header = f"# {version}（{timezone.localtime(version.created_at):%Y-%m-%d}）\n"
            out.write_text(header + dump_framework(fw), encoding="utf-8")
    except OSError as exc:
        raise Refused([Problem(file=str(out), reason=_("无法写入：%(error)s") % {"error": exc})]) from None
    return out


def framework_bytes(version: FrameworkVersion, kind: str) -> bytes:
    """The version as a .yaml or .xlsx file's bytes (what the page and the API download)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = export_framework(str(version), Path(tmp) / f"framework.{kind}")
        return out.read_bytes()


def freeze(version: FrameworkVersion, reason: str) -> None:
    """Freeze a version (a round was scored on it); freezing twice keeps the first reason."""
    if version.frozen:
        return
    version.frozen_at = timezone.now()
    version.frozen_reason = reason[:200]
    version.save()


# ---- scoring ------------------------------------------------------------------------------------


def profiles_for(subjects: list[str], year: int) -> dict[str, dict[str, str]]:
    """Stored subject profiles (对象属性) of ``year``, by unit code."""
    rows = SubjectProfile.objects.filter(unit__code__in=subjects, year=year).values_list("unit__code", "attributes")
    return {code: dict(attrs) for code, attrs in rows}


def run_engine(
    fw: Framework, subjects: list[str], profiles: dict[str, dict[str, str]], values: Values, source: str = ""
) -> Result:
    try:
        return score(fw, subjects, profiles, values)
    except EngineInputError as exc:
        raise Refused([Problem(file=source, column=_("对象属性"), reason=p) for p in exc.problems]) from None


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Scored:
    scoring: Scoring
    ranking: list[dict]
    cards: list[dict]
    reproduced: bool = False  # a published round scored again: nothing stored, the same results


def rank_result(result: Result, names: dict[str, str]) -> list[dict]:
    """Each subject's stored total, grade (等次), rank, flags, top-level scores and notes, in the
    subjects' order."""
    fw = result.framework
    n = len(result.subjects)
    totals = [grading.stored(x) for x in result.total]
    vetoed, prereq = result.vetoed, result.prerequisite_failed
    excluded = [bool(vetoed[i] or prereq[i]) for i in range(n)]
    grades = grading.grades(totals, fw.grades, excluded)
    ranks = grading.ranks(totals, excluded)
    top_codes = [t.code for t in fw.nodes]
    flags = {**result.vetoed_by, **result.prerequisite_failed_by}
    ranking = []
    for i, s in enumerate(result.subjects):
        notes = [result.explanation(i, c) for c, flag in flags.items() if flag[i]]
        ranking.append(
            {
                "subject": s,
                "name": names.get(s, ""),
                "total": totals[i],
                "grade": grades[i],
                "rank": ranks[i],
                "vetoed": bool(vetoed[i]),
                "prerequisite_failed": bool(prereq[i]),
                "nodes": {c: grading.stored(result.node_scores[c][i]) for c in top_codes},
                "notes": [sentence(ex) for ex in notes],
            }
        )
    return ranking


def differences(scoring: Scoring, result: Result, values_sha256: str) -> list[str]:
    """How scoring ``result`` again differs from the stored ``scoring``: the values or profiles it
    read, and any subject's total, grade, rank, flags or score on any node. Empty when it is
    reproduced exactly."""
    out = []
    if scoring.values_sha256 != values_sha256:
        out.append(_("考核数值与评分时不同"))
    if scoring.profiles_sha256 != _hash({s: result.profiles.get(s, {}) for s in result.subjects}):
        out.append(_("对象属性与评分时不同"))
    stored = {row.subject: row for row in SubjectScore.objects.filter(scoring=scoring)}
    if set(stored) != set(result.subjects):
        out.append(_("考核对象与评分时不同"))
        return out
    node_codes = [nd.code for nd in result.framework.walk()]
    for i, row in enumerate(rank_result(result, {})):
        old = stored[row["subject"]]
        fields = [name for name, a, b in (
            (_("总分"), old.total, row["total"]), (_("等次"), old.grade, row["grade"]),
            (_("排名"), old.rank, row["rank"]), (_("一票否决"), old.vetoed, row["vetoed"]),
            (_("前置条件"), old.prerequisite_failed, row["prerequisite_failed"])) if a != b]
        changed = [c for c in node_codes if old.nodes.get(c) != str(grading.stored(result.node_scores[c][i]))]
        if changed:
            codes = "、".join(changed[:5])
            if len(changed) > 5:
                codes = _("%(codes)s 等 %(n)s 项") % {"codes": codes, "n": len(changed)}
            fields.append(_("指标 %(codes)s 得分") % {"codes": codes})
        if fields:
            out.append(_("%(subject)s 的%(fields)s不同") % {"subject": old.subject_name or old.subject,
                                                             "fields": "、".join(fields)})
    return out


def store_scoring(
    user,
    version: FrameworkVersion,
    result: Result,
    names: dict[str, str],
    *,
    kind: str = ScoringKind.TRIAL,
    label: str = "",
    values_sha256: str = "",
    keep_cards: bool = True,
) -> Scored:
    """Grade, rank and store a scoring run: its subjects' totals and every leaf's score, explanation
    and sentence. One audit record for the run; the rows are computed data."""
    require(user, Action.EDIT, FrameworkVersion)
    fw = result.framework
    started = time.perf_counter()
    subjects = result.subjects
    n = len(subjects)
    ranking = rank_result(result, names)
    leaf_codes = list(result.leaves)
    paths = {c: fw.path_label(c, with_framework=False) for c in leaf_codes}  # the sheet's title names it
    # the short name (扣分, not 扣分（每处扣 X 分，扣完为止）): the sentence beside it says the rest
    rule_names = {c: RULES[result.leaves[c].node.rule_type].name.split("（")[0] for c in leaf_codes}
    with acting_for(user, "score_framework"), transaction.atomic():
        scoring = Scoring.objects.create(
            version=version,
            kind=kind,
            label=label[:200],
            subjects=n,
            values_sha256=values_sha256,
            profiles_sha256=_hash({s: result.profiles.get(s, {}) for s in subjects}),
            run_by=user if user and user.pk else None,
            run_at=timezone.now(),
        )
        node_codes = [nd.code for nd in fw.walk()]
        results = RowWriter(
            SubjectScore,
            [
                "id",
                "scoring_id",
                "subject",
                "subject_name",
                "total",
                "grade",
                "rank",
                "vetoed",
                "prerequisite_failed",
                "nodes",
                "notes",
            ],
        )
        ids = reserve_ids(SubjectScore, n)
        for i, row in enumerate(ranking):
            results.add(
                ids[i],
                scoring.pk,
                row["subject"],
                row["name"][:100],
                row["total"],
                row["grade"],
                row["rank"],
                row["vetoed"],
                row["prerequisite_failed"],
                {c: str(grading.stored(result.node_scores[c][i])) for c in node_codes},
                row["notes"],
            )
        results.write()
        writer = RowWriter(
            IndicatorScore, ["id", "scoring_id", "subject", "node", "score", "rule", "case", "explanation", "sentence"]
        )
        score_ids = reserve_ids(IndicatorScore, n * len(leaf_codes))
        per_subject: list[list[dict]] = [[] for _ in subjects]
        k = 0
        for code in leaf_codes:
            rule = result.leaves[code].node.rule_type
            for i, ex in enumerate(result.leaf_explanations(code)):
                text = sentence(ex)
                counted = grading.stored(ex["counted"])
                writer.add(score_ids[k], scoring.pk, subjects[i], code, counted, rule, ex["case"], compact(ex), text)
                k += 1
                if keep_cards:
                    per_subject[i].append(
                        {
                            "subject": subjects[i],
                            "name": names.get(subjects[i], ""),
                            "code": code,
                            "path": paths[code],
                            "points": grading.stored(ex["points"]),
                            "score": counted,
                            "rule_name": rule_names[code],
                            "sentence": text,
                        }
                    )
            if len(writer.rows) >= 20000:
                writer.write()
        writer.write()
        cards = [card for subject_cards in per_subject for card in subject_cards]
        scoring.seconds = round(time.perf_counter() - started, 3)
        scoring.save(update_fields=["seconds"])
        record_event(
            "score_framework",
            "assessment.scoring",
            scoring.pk,
            framework=str(version),
            kind=kind,
            subjects=n,
            indicators=len(leaf_codes),
            values_sha256=values_sha256,
            profiles_sha256=scoring.profiles_sha256,
            framework_sha256=version.sha256,
        )
    return Scored(scoring, ranking, cards)


def write_templates(name: str, unit_codes: list[str], output: str | Path, *, year: int | None = None) -> list[Path]:
    """The values sheet to fill in for ``unit_codes`` on ``CODE[@VERSION]``, and — when the framework's
    thresholds depend on subject classes — the profiles sheet beside it (``…-对象属性.xlsx``), filled
    with the stored profiles of ``year``."""
    from chengzhen.org.models import Unit

    version = resolve(name)
    fw = framework_of(version)
    codes = [c.strip() for c in unit_codes if c.strip()]
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in units]
    if not codes:
        raise Refused([Problem(column="--units", reason=_("至少给出一个单位代码"))])
    if unknown:
        reason = _("没有代码为 %(codes)s 的单位") % {"codes": "、".join(unknown)}
        raise Refused([Problem(column="--units", reason=reason)])
    subjects = [(c, units[c].short_name or units[c].name) for c in dict.fromkeys(codes)]
    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise Refused([Problem(file=out.name, reason=_("数值表应以 .xlsx 结尾"))])
    written = [out]
    try:
        workbook.write_values_template(fw, subjects, out)
        if fw.profile:
            profiles_path = out.with_name(f"{out.stem}-对象属性.xlsx")
            stored = profiles_for([c for c, _ in subjects], year or timezone.localdate().year)
            workbook.write_profiles_template(fw, subjects, profiles_path, stored)
            written.append(profiles_path)
    except OSError as exc:
        raise Refused([Problem(file=str(out), reason=_("无法写入：%(error)s") % {"error": exc})]) from None
    return written


def score_values_file(
    user,
    name: str,
    values_path: str | Path,
    *,
    profiles_path: str | Path | None = None,
    year: int | None = None,
    output_dir: str | Path | None = None,
    label: str = "",
) -> Scored:
    """Score a values sheet on ``CODE[@VERSION]`` without a round (试评): store the run and, with
    ``output_dir``, write 排名.xlsx and 评分明细.xlsx there."""
    require(user, Action.EDIT, FrameworkVersion)
    version = resolve(name)
    fw = framework_of(version)
    values_path = Path(values_path)
    sheet = workbook.read_values(fw, values_path, values_path.name, max_bytes=MAX_BYTES)
    if not sheet.subjects:
        raise Refused([Problem(file=values_path.name, reason=_("数值表中没有任何对象"))])
    if profiles_path is not None:
        profiles_path = Path(profiles_path)
        profiles = workbook.read_profiles(fw, profiles_path, profiles_path.name, max_bytes=MAX_BYTES)
    else:
        profiles = profiles_for(sheet.subjects, year or timezone.localdate().year)
    values = Values.from_records(sheet.subjects, sheet.records)
    result = run_engine(fw, sheet.subjects, profiles, values, (profiles_path or values_path).name)
    values_sha = hashlib.sha256(values_path.read_bytes()).hexdigest()
    scored = store_scoring(
        user, version, result, sheet.names, label=label or values_path.name, values_sha256=values_sha
    )
    if output_dir is not None:
        out = Path(output_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            by_rank = sorted(scored.ranking, key=lambda r: (r["rank"], r["subject"]))
            workbook.write_ranking(out / "排名.xlsx", fw, by_rank)
            workbook.write_scorecards(out / "评分明细.xlsx", fw, scored.cards)
        except OSError as exc:
            raise Refused([Problem(file=str(out), reason=_("无法写入：%(error)s") % {"error": exc})]) from None
    return scored
