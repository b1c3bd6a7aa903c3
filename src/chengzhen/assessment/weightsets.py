"""Weight-set actions (权重): save a weight set with its method and inputs, and make a new
framework version whose node's children carry its weights (按权重生成测评体系新版本).

One function per action: the permission check (weight sets are rules: everyone holding a role
reads them, supervisors and administrators change them), the change and its audit record in one
transaction. The arithmetic is in ``weighting.py``; this module only stores what it returns.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.context import acting_for
from chengzhen.org.permissions import Action, require
from chengzhen.problems import Problem, Refused

from . import services
from .framework import VERSION, FrameworkError, from_dict
from .models import FrameworkVersion, WeightMethod, WeightSet
from .weighting import decimal_weights

# rule parameters counted in points: scaled with the item's points when a block is re-weighted
POINT_PARAMS = {"threshold": ("partial",), "deduction": ("per", "cap"), "bonus": ("per", "cap"), "steps": ("else",)}
MAX_LABEL = 20


def resolve_weight_set(ref: str) -> WeightSet:
    """A saved weight set by id (``12`` or ``#12``) or by name (the latest of that name)."""
    ref = ref.strip().lstrip("#")
    found = WeightSet.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    found = found or WeightSet.objects.filter(name=ref).order_by("-created_at", "-pk").first()
    if found is None:
        raise Refused([Problem(reason=_("没有权重 %(ref)s") % {"ref": ref})])
    return found


def save_weight_set(user, *, name: str, method: str, criteria: Sequence[str], weights, inputs: dict[str, Any],
                    figures: dict[str, Any], framework_name: str = "", node_code: str = "") -> WeightSet:
    """Store a weight set: the weights as decimal strings summing to exactly 1, with what gave them;
    with ``framework_name`` and ``node_code``, also the new framework version it gives (both or
    neither: a refused version leaves no weight set behind)."""
    require(user, Action.EDIT, WeightSet)
    if framework_name:
        require(user, Action.EDIT, FrameworkVersion)
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append(Problem(column="name", reason=_("权重应有名称")))
    elif len(name) > 200:
        problems.append(Problem(column="name", reason=_("名称不超过 200 字")))
    if method not in WeightMethod.values:
        problems.append(Problem(column="method", reason=_("未知的赋权方法 %(m)s") % {"m": method}))
    if len(criteria) != len(weights) or not criteria:
        problems.append(Problem(reason=_("指标与权重个数不符")))
    if problems:
        raise Refused(problems)
    with acting_for(user, "save_weight_set"), transaction.atomic():
        ws = WeightSet.objects.create(
            name=name, method=method, criteria=list(criteria),
            weights=[str(w) for w in decimal_weights(weights)], inputs=inputs, figures=figures,
            created_by=user if user and user.pk else None, created_at=timezone.now(),
        )
        if framework_name:
            make_framework_version(user, ws, framework_name, node_code)
        return ws


def _find(nodes: list[dict], code: str) -> dict | None:
    for node in nodes:
        if node.get("code") == code:
            return node
        found = _find(node.get("children") or [], code)
        if found is not None:
            return found
    return None


def _scaled(x: Any, f: float, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise Refused([Problem(column=where, reason=_("按分值计的规则参数不是数（%(x)s），无法随权重换算，请先手工调整")
                               % {"x": x})])
    return float(x) * f


def _scale(node: dict, f: float, where: str) -> None:
    """Multiply a subtree's points — and its rules' parameters counted in points — by ``f``, so
    every item keeps its share of the block and scores ``f`` times what it scored."""
    here = f"{where} › {node.get('code')}"
    if "points" in node:
        node["points"] = _scaled(node["points"], f, f"{here} › points")
    rule = node.get("rule")
    if isinstance(rule, dict):
        for key in POINT_PARAMS.get(rule.get("type"), ()):
            if key in rule:
                rule[key] = _scaled(rule[key], f, f"{here} › rule.{key}")
        if rule.get("type") == "steps" and isinstance(rule.get("steps"), list):
            steps = []
            for step in rule["steps"]:
                if isinstance(step, dict):
                    steps.append({**step, "points": _scaled(step.get("points"), f, f"{here} › rule.steps")})
                else:
                    steps.append([step[0], _scaled(step[1], f, f"{here} › rule.steps")])
            rule["steps"] = steps
    for child in node.get("children") or []:
        _scale(child, f, here)


def _new_label(version: FrameworkVersion) -> str:
    taken = set(FrameworkVersion.objects.filter(framework=version.framework).values_list("label", flat=True))
    k = 1
    while True:
        suffix = f"-w{k}"
        label = version.label[: MAX_LABEL - len(suffix)] + suffix
        if label not in taken and VERSION.match(label):
            return label
        k += 1


def reweighted_definition(version: FrameworkVersion, node_code: str, criteria: Sequence[str],
                          weights: Sequence[Decimal], label: str) -> dict:
    """The version's definition with ``node_code``'s children carrying ``weights`` (by code or name)."""
    fw = services.framework_of(version)
    definition = copy.deepcopy(fw.as_dict())
    definition["version"] = label
    target = _find(definition["nodes"], node_code)
    where = f"{version} › {node_code}"
    if target is None:
        raise Refused([Problem(column="node", reason=_("%(fw)s 中没有代码为 %(code)s 的节点")
                               % {"fw": version, "code": node_code})])
    children = target.get("children") or []
    if not children:
        raise Refused([Problem(column="node", reason=_("%(where)s 没有下级指标，无法赋权") % {"where": where})])
    parsed = {n.code: n for n in fw.node(node_code).children}
    by_key: dict[str, dict] = {}
    for child in children:
        by_key.setdefault(child["code"], child)
        by_key.setdefault(child["name"], child)
    problems = []
    unmatched = [c for c in criteria if c not in by_key]
    if unmatched:
        problems.append(Problem(column="criteria", reason=_("这些指标不是 %(where)s 的下级（按代码或名称）：%(names)s")
                                % {"where": where, "names": "、".join(unmatched)}))
    matched = {by_key[c]["code"]: w for c, w in zip(criteria, weights, strict=True) if c in by_key}
    if len(matched) != len([c for c in criteria if c in by_key]):
        problems.append(Problem(column="criteria", reason=_("同一个下级指标出现了两次")))
    special = [f"{c['code']} {c['name']}" for c in children
               if parsed[c["code"]].bonus or not parsed[c["code"]].awards_points]
    if special:
        problems.append(Problem(column="node", reason=_(
            "%(where)s 下有加分项、一票否决或前置条件（%(names)s），不参与权重，无法整体改为权重")
            % {"where": where, "names": "、".join(special)}))
    missing = [f"{c['code']} {c['name']}" for c in children if c["code"] not in matched]
    if missing and not unmatched:
        problems.append(Problem(column="criteria", reason=_("权重没有覆盖 %(where)s 的这些下级：%(names)s")
                                % {"where": where, "names": "、".join(missing)}))
    if problems:
        raise Refused(problems)
    block_points = fw.node(node_code).points
    total = sum(matched.values())
    for child in children:
        w = matched[child["code"]]
        old = parsed[child["code"]].points
        new = block_points * float(w) / float(total)
        child.pop("points", None)
        child["weight"] = float(w)
        if old > 0:
            f = new / old
            for grandchild in child.get("children") or []:
                _scale(grandchild, f, f"{where} › {child['code']}")
            rule = child.get("rule")
            if isinstance(rule, dict):  # a leaf's own point-valued parameters follow its points
                leaf = {"code": child["code"], "rule": rule}
                _scale(leaf, f, where)
        elif child.get("children"):
            raise Refused([Problem(column="node", reason=_("%(where)s › %(code)s 原分值为 0，无法按比例换算其下级分值")
                                   % {"where": where, "code": child["code"]})])
    return definition


def make_framework_version(user, weight_set: WeightSet, framework_name: str, node_code: str) -> FrameworkVersion:
    """A NEW version of ``framework_name`` in which ``node_code``'s children carry the weight set's
    weights (the old version, frozen or not, is copied, never changed); the weight set is linked to it."""
    require(user, Action.EDIT, WeightSet)
    require(user, Action.EDIT, FrameworkVersion)
    version = services.resolve(framework_name)
    with acting_for(user, "weight_framework"), transaction.atomic():
        label = _new_label(version)
        definition = reweighted_definition(version, node_code, weight_set.criteria,
                                           [Decimal(w) for w in weight_set.weights], label)
        try:
            fw = from_dict(definition, f"{version.framework.code}@{label}")
        except FrameworkError as exc:
            raise services._refused(exc, f"{version.framework.code}@{label}") from None
        note = _("按权重“%(name)s”（#%(pk)s，%(method)s）由 %(old)s 生成") % {
            "name": weight_set.name, "pk": weight_set.pk, "method": weight_set.get_method_display(), "old": version}
        imported = services.import_framework(user, fw, note=note[:200])
        weight_set.framework_version = imported.version
        weight_set.save()
    return imported.version
