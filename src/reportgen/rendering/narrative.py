"""Narrative sentences: Jinja templates over facts, rendered in a sandbox.

A sentence template sees:

- every fact by its key: ``{{ total }}`` prints the formatted value as a link to its lineage
  entry (``<a class="fact" href="#fact-revenue-total">$7.9M</a>``); a name (a region) or a
  missing value prints as escaped text. A fact also offers ``.value``, ``.formatted``,
  ``.label``, ``.unit``, ``.id``, ``.available`` and ``.note``;
- ``facts`` (the same facts, ``facts.total`` or ``facts['total']``), ``measure`` (its label),
  ``plural_measure`` (the label names many things: "were", not "was"), ``counts_things`` (an
  integer total with a plural label: "There were 60 SLA breaches"),
  ``dimension`` (the label of the narrative's ``by``), ``grain`` ("month");
- ``has('key')``: whether the fact exists and has a value; ``plural(n, 'month', 'months')``
  by the locale's plural rules; the filter ``lower_first`` ("Region" -> "region").

Templates run in an `ImmutableSandboxedEnvironment` with `StrictUndefined` and autoescape, so
data values come out escaped and nothing outside the facts is reachable. Every problem of
every sentence is reported at once, with the sentence's number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from typing import Any

from babel import Locale
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from reportgen.domain.facts import Fact, FactSet
from reportgen.errors import InvalidInput

_FACT_FIELDS = "value, formatted, label, unit, id, available, note"
_FACT_HREF = re.compile(r'href="#fact-([^"]+)"')
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_MAX_POWER = 100
_MAX_REPEAT = 10_000


class _NarrativeEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing arithmetic that would exhaust memory ('x' * 10**9)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**" and isinstance(right, int | float) and abs(right) > _MAX_POWER:
            raise SecurityError(f"an exponent above {_MAX_POWER} is not allowed")
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_REPEAT
                ):
                    raise SecurityError(f"a sequence longer than {_MAX_REPEAT} is not allowed")
        return super().call_binop(context, operator_, left, right)


def lower_first(text: str) -> str:
    """A label inside a sentence: "Region" -> "region", but "SLA tier" stays."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


_ENV = _NarrativeEnvironment(autoescape=True, undefined=StrictUndefined)
_ENV.filters["lower_first"] = lower_first


class FactView:
    """What a template sees of a fact: its fields, and a linked value when printed."""

    __slots__ = ("_fact",)

    def __init__(self, fact: Fact) -> None:
        self._fact = fact

    @property
    def value(self) -> object:
        return self._fact.value

    @property
    def formatted(self) -> str:
        return self._fact.formatted

    @property
    def label(self) -> str:
        return self._fact.label

    @property
    def unit(self) -> str:
        return self._fact.unit

    @property
    def id(self) -> str:
        return self._fact.id

    @property
    def available(self) -> bool:
        return self._fact.available

    @property
    def note(self) -> str:
        return self._fact.note

    def __html__(self) -> Markup:
        fact = self._fact
        if not fact.available or fact.unit in {"text", "flag"}:
            return escape(fact.formatted)
        return Markup('<a class="fact" href="#fact-{}">{}</a>').format(fact.id, fact.formatted)

    def __str__(self) -> str:
        return self._fact.formatted


def linked_fact_ids(html: str) -> set[str]:
    """The facts `html` links to the lineage appendix, as `FactView` writes the links."""
    return {unescape(found) for found in _FACT_HREF.findall(html)}


class FactsView:
    """The `facts` variable: facts by attribute or item."""

    __slots__ = ("_views",)

    def __init__(self, views: dict[str, FactView]) -> None:
        self._views = views

    def __getattr__(self, key: str) -> FactView:
        try:
            return self._views[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> FactView:
        return self._views[key]

    def __contains__(self, key: object) -> bool:
        return key in self._views

    def __str__(self) -> str:
        return ", ".join(self._views)


@dataclass(frozen=True)
class StandardSentence:
    """A built-in sentence, written only when `when` holds for the facts."""

    name: str
    when: Callable[[FactSet], bool]
    template: str


def plural_label(label: str) -> bool:
    """Whether a measure's label names many things and takes "were": "SLA breaches", "Orders",
    "Sales"; not "Revenue", "Gross margin %" or "Status"."""
    words = label.split()
    last = words[-1].lower() if words else ""
    return len(last) > 2 and last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _counts_things(facts: FactSet) -> bool:
    """A total that counts things named by a plural label reads "There were 60 SLA breaches"."""
    total = facts.get("total")
    return total is not None and total.unit == "integer" and plural_label(facts.label)


def _same_earlier_periods(facts: FactSet) -> bool:
    """Whether the prior period is the prior year (a report over a whole past year): the same
    query, so a second sentence about it would only repeat the first."""
    period, year = facts.get("prior_period_total"), facts.get("prior_year_total")
    return (
        period is not None
        and year is not None
        and facts.has("change_prior_period")
        and period.source.query_hash == year.source.query_hash
    )


def _share_is_telling(facts: FactSet) -> bool:
    share = facts.get("top_contributor_share")
    return facts.has("top_contributor_share") and share is not None and share.value != 1.0


STANDARD_SENTENCES: tuple[StandardSentence, ...] = (
    StandardSentence(
        "total",
        lambda f: f.has("total"),
        "{% if counts_things %}There {{ plural(total, 'was', 'were') }} {{ total }}"
        " {{ measure|lower_first }}{% else %}{{ measure }} {{ 'were' if plural_measure else"
        " 'was' }} {{ total }}{% endif %}{% if has('period') %} in {{ period }}{% endif %}"
        "{% if has('change_prior_period') %}, {{ change_prior_period }} vs the prior period"
        " ({{ prior_period_total }}){% endif %}.",
    ),
    StandardSentence(
        "no_data",
        lambda f: "total" in f and not f.has("total"),
        "There is no data for {{ measure }}{% if has('period') %} in {{ period }}{% endif %}.",
    ),
    StandardSentence(
        "year_over_year",
        lambda f: f.has("change_prior_year") and not _same_earlier_periods(f),
        "Against the same period a year earlier ({{ prior_year_total }}), the change is"
        " {{ change_prior_year }}.",
    ),
    StandardSentence(
        "movers",
        lambda f: f.has("top_mover") or f.has("bottom_mover"),
        "By {{ dimension|lower_first }}, "
        "{% if has('top_mover') %}{{ top_mover }} rose the most ({{ top_mover_change }}, from"
        " {{ top_mover_prior }} to {{ top_mover_value }})"
        "{% if has('bottom_mover') %} and {% endif %}{% endif %}"
        "{% if has('bottom_mover') %}{{ bottom_mover }} fell the most"
        " ({{ bottom_mover_change }}, from {{ bottom_mover_prior }} to"
        " {{ bottom_mover_value }}){% endif %}.",
    ),
    StandardSentence(
        "share",
        _share_is_telling,
        "{{ top_contributor }} contributed the largest share: {{ top_contributor_share }} of"
        " the total ({{ top_contributor_value }}).",
    ),
    StandardSentence(
        "outliers",
        lambda f: f.has("outlier_count") and f.grain is not None,
        "{% if outlier_count.value == 0 %}No {{ grain }} stood out from the usual range."
        "{% else %}{{ outlier_count }} {{ plural(outlier_count, grain, grain ~ 's') }} stood"
        " out{% if outlier_count.value > 1 %}, most of all{% else %}:{% endif %} {{ outlier }}"
        " at {{ outlier_value }},"
        " {{ 'above' if outlier_value.value > series_median.value else 'below' }} the median"
        " of {{ series_median }} per {{ grain }}.{% endif %}",
    ),
    StandardSentence(
        "trend",
        lambda f: f.has("trend") and f.grain is not None,
        "{% if trend.value == 'flat' %}{{ measure }} held steady over the {{ trend_points }}"
        " complete {{ grain }}s ({{ trend_slope }} of the average per {{ grain }})."
        "{% else %}{{ measure }} trended {{ trend }} over the {{ trend_points }} complete"
        " {{ grain }}s, {{ trend_slope }} of the average per {{ grain }}.{% endif %}",
    ),
    StandardSentence(
        "attainment",
        lambda f: f.has("attainment"),
        "Attainment is {{ attainment }} of the {{ target }} target ({{ target_gap }}).",
    ),
    StandardSentence(
        "no_target",
        lambda f: "target" in f and not f.has("target") and f.has("total"),
        "There is no target for {% if has('period') %}{{ period }}{% else %}this period"
        "{% endif %}.",
    ),
    StandardSentence(
        "freshness",
        lambda f: f.has("freshness_latest"),
        "The data is current to {{ freshness_latest }}"
        "{% if has('freshness_within_sla') %}{% if freshness_within_sla.value %}, within its"
        " freshness promise of {{ freshness_sla }}{% else %} and {{ freshness_age }}"
        " {{ plural(freshness_age, 'day', 'days') }} old, later than its promise of"
        " {{ freshness_sla }}{% endif %}{% endif %}.",
    ),
)


def _context(facts: FactSet, locale: str) -> dict[str, object]:
    views = {fact.key: FactView(fact) for fact in facts}
    plural_form = Locale.parse(locale).plural_form

    def has(key: str) -> bool:
        return facts.has(key)

    def plural(count: object, one: str, other: str) -> str:
        value = count.value if isinstance(count, FactView) else count
        if not isinstance(value, int | float):
            return other
        return one if plural_form(abs(value)) == "one" else other

    context: dict[str, object] = {
        **views,
        "facts": FactsView(views),
        "measure": facts.label,
        "plural_measure": plural_label(facts.label),
        "counts_things": _counts_things(facts),
        "has": has,
        "plural": plural,
    }
    if facts.dimension_label is not None:
        context["dimension"] = facts.dimension_label
    if facts.grain is not None:
        context["grain"] = facts.grain.value
    return context


@lru_cache(maxsize=512)
def _compile(source: str) -> tuple[Template, tuple[str, ...], frozenset[str]]:
    """(template, problems found without running it, names it reads). Raises on bad syntax."""
    tree = _ENV.parse(source)
    reached = [node.attr for node in tree.find_all(nodes.Getattr)] + [
        node.arg.value
        for node in tree.find_all(nodes.Getitem)
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
    ]
    unsafe = list(dict.fromkeys(attr for attr in reached if attr.startswith("_")))
    problems = (
        [
            f"{', '.join(repr(a) for a in unsafe)} reach{'es' if len(unsafe) == 1 else ''} "
            f"outside the sandbox and {'is' if len(unsafe) == 1 else 'are'} refused; "
            f"use a fact's {_FACT_FIELDS}"
        ]
        if unsafe
        else []
    )
    problems += [
        f"'{type(statement).__name__.lower()}' is not available in a sentence"
        for statement in tree.find_all(
            (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
        )
    ]
    names = frozenset(meta.find_undeclared_variables(tree))
    return _ENV.from_string(tree), tuple(problems), names


def _render_one(number: int, source: str, context: dict[str, object]) -> tuple[str, list[str]]:
    where = f"sentence {number}"
    try:
        template, problems, names = _compile(source)
    except TemplateSyntaxError as exc:
        return "", [f"{where}, line {exc.lineno}: syntax error: {exc.message}"]
    if problems:
        return "", [f"{where}: {problem}" for problem in problems]
    unknown = sorted(names - set(context))
    if unknown:
        facts = sorted(k for k, v in context.items() if isinstance(v, FactView))
        return "", [
            f"{where}: unknown fact {', '.join(repr(u) for u in unknown)}; "
            f"available facts: {', '.join(facts)}"
        ]
    try:
        rendered = template.render(context)
    except SecurityError as exc:
        return "", [f"{where} reaches outside the sandbox and is refused: {exc}"]
    except UndefinedError as exc:
        return "", [f"{where}: {exc}; a fact has: {_FACT_FIELDS}"]
    except Exception as exc:  # noqa: BLE001 - any failure of a user's template is theirs to fix
        return "", [f"{where} could not be written: {type(exc).__name__}: {exc}"]
    # Collapse the template's line breaks and indents, but keep no-break spaces ("1,5 Mio. €").
    return _ASCII_SPACE.sub(" ", rendered).strip(" "), []


def write_narrative(
    facts: FactSet, sentences: tuple[str, ...] = (), *, locale: str
) -> tuple[str, ...]:
    """The narrative's sentences as safe HTML, numbers linked to their lineage entries.

    Empty `sentences` means the standard ones, each written only when its facts are available.
    Raises InvalidInput listing every problem of every given sentence.
    """
    context = _context(facts, locale)
    if not sentences:
        sources = tuple(s.template for s in STANDARD_SENTENCES if s.when(facts))
    else:
        sources = sentences
    out: list[str] = []
    problems: list[str] = []
    for number, source in enumerate(sources, start=1):
        text, found = _render_one(number, source, context)
        problems += found
        if text:
            # Autoescaped output, whitespace collapsed: still safe.
            out.append(Markup(text))  # noqa: S704
    if problems:
        raise InvalidInput(problems)
    return tuple(out)


__all__ = [
    "STANDARD_SENTENCES",
    "FactView",
    "StandardSentence",
    "lower_first",
    "plural_label",
    "write_narrative",
]
