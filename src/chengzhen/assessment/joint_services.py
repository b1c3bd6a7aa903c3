"""Read-only database glue for merging joint campaigns (六城联创): resolve the frameworks named
``CODE[@VERSION]``, parse them, read the subject's profile for the year and call the pure
``joint.merge``. Nothing is written here (the write services live in their own module).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from chengzhen.org.models import Unit
from chengzhen.problems import Problem, Refused

from . import services
from .joint import Campaign, LeadRule, Merged, merge
from .matching import Dictionary


def campaigns_of(names: Iterable[str]) -> list[Campaign]:
    """The campaigns the framework names choose (each name resolved to its version); every name
    that does not resolve is reported at once."""
    campaigns, problems = [], []
    for name in names:
        try:
            version = services.resolve(name)
        except Refused as exc:
            problems.extend(exc.problems)
            continue
        fw = services.framework_of(version)
        campaigns.append(Campaign(fw.name, fw.code, fw.version, fw))
    if problems:
        raise Refused(problems)
    return campaigns


def subject_profile(subject_code: str, year: int) -> dict[str, str]:
    """The subject's stored profile (对象属性) for ``year``; refused when the subject or its profile
    is missing."""
    if not Unit.objects.filter(code=subject_code).exists():
        reason = _("没有单位代码为 %(code)s 的对象") % {"code": subject_code}
        raise Refused([Problem(column="--subject", reason=reason)])
    profile = services.profiles_for([subject_code], year).get(subject_code)
    if profile is None:
        raise Refused([Problem(column="--subject", reason=_("对象 %(code)s 没有 %(year)s 年度的对象属性（对象属性表）")
                               % {"code": subject_code, "year": year})])
    return profile


def merge_frameworks(
    names: list[str],
    *,
    subject_code: str | None,
    year: int | None,
    confirmed: Iterable[tuple[str, str, str]] = (),
    lead_rule: LeadRule | None = None,
    proposals: bool = True,
) -> Merged:
    """Merge the named frameworks (就高不就低) for a subject and year, or per class without one.
    ``confirmed`` are people's confirmed matches (indicator name, unit, measure code)."""
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise Refused([Problem(column="--frameworks", reason=_("至少列出一个测评体系（CODE[@VERSION]）"))])
    campaigns = campaigns_of(names)
    profile = None
    if subject_code:
        if year is None:
            raise Refused([Problem(column="--year", reason=_("指定对象时须给出年度"))])
        profile = subject_profile(subject_code, year)
    confirmed = tuple(confirmed)
    dictionary = Dictionary.shipped().extended(confirmed) if confirmed else Dictionary.shipped()
    return merge(campaigns, dictionary, profile, lead_rule=lead_rule, subject=subject_code or "",
                 proposals=proposals)
