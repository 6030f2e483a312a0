"""Narrative sentences: standard sentences, linked numbers, escaping, and the sandbox."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from markupsafe import Markup

from reportgen.domain.catalog import MeasureFormat, TimeGrain
from reportgen.domain.facts import (
    FactSet,
    FactSource,
    MeasureFacts,
    Point,
    attainment_facts,
    comparison_facts,
    freshness_facts,
    mover_facts,
    outlier_facts,
    period_fact,
    resolve_window,
    share_facts,
    total_fact,
    trend_facts,
)
from reportgen.domain.query import TimeRange
from reportgen.errors import InvalidInput
from reportgen.rendering.formatting import LocaleFormatter
from reportgen.rendering.narrative import linked_fact_ids, lower_first, write_narrative

SOURCE = FactSource(
    query_hash="c" * 64, sql="SELECT 1", params=(), dataset="sales", dataset_version="v1"
)
LAST_YEAR_SOURCE = SOURCE.model_copy(update={"query_hash": "d" * 64})
HOSTILE = '<script>alert("x")</script>'
LINK = re.compile(r'<a class="fact" href="#fact-([a-z0-9-]+)">([^<]*)</a>')


def one(value: float | None) -> pd.DataFrame:
    return pd.DataFrame({"revenue": [value]})


def regions(**values: float) -> pd.DataFrame:
    return pd.DataFrame({"region": list(values), "revenue": list(values.values())})


def fact_set(
    *,
    current: float | None = 1_500_000.0,
    prior: float | None = 1_250_000.0,
    last_year: float | None = 1_000_000.0,
    target: float | None = 1_600_000.0,
    series: tuple[float, ...] = (10.0, 11.0, 9.0, 10.0, 30.0, 10.5, 9.5),
    top: str = "EMEA",
    locale: str = "en_US",
) -> FactSet:
    """A full set of facts about revenue by region, as the fact service makes them."""
    m = MeasureFacts("revenue", "Revenue", MeasureFormat.CURRENCY, LocaleFormatter(locale))
    window = resolve_window(
        TimeRange(start=date(2026, 7, 1), end=date(2026, 10, 1)), date(2026, 11, 1)
    )
    total = total_fact(m, one(current), SOURCE)
    points = [Point(date(2026, i + 1, 1), date(2026, i + 2, 1), v) for i, v in enumerate(series)]
    facts = [
        period_fact(m, window, SOURCE),
        total,
        *comparison_facts(m, "prior_period", total, one(prior), SOURCE),
        *comparison_facts(m, "prior_year", total, one(last_year), LAST_YEAR_SOURCE),
        *mover_facts(
            m,
            "region",
            regions(**{top: 900_000.0, "APAC": 600_000.0}),
            regions(**{top: 500_000.0, "APAC": 750_000.0}),
            (SOURCE, SOURCE),
            additive=True,
        ),
        *share_facts(m, "region", regions(**{top: 900_000.0, "APAC": 600_000.0}), total, SOURCE),
        *outlier_facts(m, points, TimeGrain.MONTH, SOURCE),
        *trend_facts(m, points, TimeGrain.MONTH, SOURCE),
        *attainment_facts(m, total, target, MeasureFormat.CURRENCY, SOURCE),
        *freshness_facts(
            "sales",
            latest=date(2026, 10, 31),
            sla_hours=48,
            today=date(2026, 11, 1),
            source=SOURCE,
            formatter=m.formatter,
        ),
    ]
    return FactSet("revenue", "Revenue", tuple(facts), "region", "Region", TimeGrain.MONTH)


def test_standard_sentences_cover_every_fact_family() -> None:
    sentences = write_narrative(fact_set(), locale="en_US")
    text = " ".join(sentences)
    assert sentences[0].startswith("Revenue was ")
    for phrase in (
        "in Q3 2026",
        "vs the prior period",
        "Against the same period a year earlier",
        "By region, EMEA rose the most",
        "APAC fell the most",
        "contributed the largest share",
        "month stood out",
        "trended",
        "Attainment is",
        "The data is current to",
    ):
        assert phrase in text, phrase
    assert all(isinstance(s, Markup) for s in sentences)
    assert "None" not in text
    assert "nan" not in text


def test_every_number_is_a_link_to_its_lineage_entry() -> None:
    facts = fact_set()
    sentences = write_narrative(facts, locale="en_US")
    links = [LINK.findall(s) for s in sentences]
    assert all(links), "every standard sentence quotes at least one number"
    for fact_id, shown in (pair for found in links for pair in found):
        fact = next(f for f in facts if f.id == fact_id)
        assert shown == fact.formatted
    # Outside the links no digit is left: every number was linked.
    unlinked = LINK.sub("", " ".join(sentences))
    assert not re.search(r"\d", unlinked.replace("Q3 2026", ""))
    assert '<a class="fact" href="#fact-revenue-total">$1.5M</a>' in sentences[0]


def test_sentences_are_left_out_when_their_facts_are_missing() -> None:
    sparse = fact_set(prior=0.0, last_year=None, target=None, series=(5.0,))
    text = " ".join(write_narrative(sparse, locale="en_US"))
    assert "vs the prior period" not in text  # the prior period was zero
    assert "a year earlier" not in text
    assert "stood out" not in text
    assert "trended" not in text
    assert "There is no target for Q3 2026." in text
    assert "not comparable" not in text


def test_a_period_without_data_gets_one_plain_sentence() -> None:
    empty = fact_set(current=None)
    sentences = write_narrative(empty, locale="en_US")
    assert sentences[0] == "There is no data for Revenue in Q3 2026."
    assert not any("Attainment" in s for s in sentences)


def test_one_outlier_and_several_read_correctly() -> None:
    single = " ".join(write_narrative(fact_set(), locale="en_US"))
    assert re.search(r">1</a> month stood out: <a [^>]+>May 2026</a>", single)
    assert "above the median" in single
    several = fact_set(series=(10.0, 11.0, 9.0, 10.0, 1.0, 10.5, 9.5, 40.0))
    text = " ".join(write_narrative(several, locale="en_US"))
    assert re.search(r">2</a> months stood out, most of all <a [^>]+>Aug 2026</a>", text)


def test_data_values_come_out_escaped() -> None:
    facts = fact_set(top=HOSTILE)
    assert facts["top_mover"].value == HOSTILE
    text = " ".join(write_narrative(facts, locale="en_US"))
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    custom = write_narrative(facts, ("{{ top_mover }} | {{ top_mover.value }}",), locale="en_US")
    assert "<script>" not in custom[0]
    assert custom[0].count("&lt;script&gt;") == 2


def test_custom_sentences_see_facts_and_helpers() -> None:
    sentences = write_narrative(
        fact_set(),
        (
            "{{ measure }}: {{ total }} ({{ facts.change_prior_period }}).",
            "{% if has('attainment') and attainment.value < 1 %}Below plan.{% endif %}",
            "{% if has('nothing') %}never{% endif %}",
            "{{ facts['top_mover'].label }}; {{ dimension|lower_first }}; {{ grain }}",
            "{{ plural(1, 'day', 'days') }} {{ plural(freshness_age, 'day', 'days') }}",
            "{{ total.value > 0 }} {{ total.unit }} {{ total.id }}",
        ),
        locale="en_US",
    )
    assert sentences[0] == (
        'Revenue: <a class="fact" href="#fact-revenue-total">$1.5M</a> '
        '(<a class="fact" href="#fact-revenue-change-prior-period">+20.0%</a>).'
    )
    assert sentences[1] == "Below plan."
    # The empty sentence is dropped.
    assert sentences[2] == "Revenue: region that rose most; region; month"
    assert sentences[3] == "day day"
    assert sentences[4] == "True currency revenue-total"


def test_an_unavailable_fact_prints_plainly() -> None:
    facts = fact_set(prior=0.0)
    (sentence,) = write_narrative(facts, ("Change: {{ change_prior_period }}",), locale="en_US")
    assert sentence == "Change: not comparable"


def test_numbers_follow_the_locale() -> None:
    german = " ".join(write_narrative(fact_set(locale="de_DE"), locale="de_DE"))
    english = " ".join(write_narrative(fact_set(), locale="en_US"))
    assert "1,5\N{NO-BREAK SPACE}Mio.\N{NO-BREAK SPACE}$" in german
    assert "+20,0\N{NO-BREAK SPACE}%" in german
    assert german != english


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ facts.__init__.__globals__ }}",
        "{{ total._fact }}",
        "{{ total['_fact'] }}",
        "{{ facts|attr('__class__') }}",
        "{{ has.__globals__['__builtins__'] }}",
        "{% for c in ''|attr('__class__') %}{{ c }}{% endfor %}",
    ],
)
def test_reaching_outside_the_sandbox_is_refused(escape: str) -> None:
    with pytest.raises(InvalidInput, match=r"sentence 2\b.*(sandbox|unsafe)") as caught:
        write_narrative(fact_set(), ("{{ total }}", escape), locale="en_US")
    assert len(caught.value.problems) == 1


def test_templates_cannot_load_other_templates_or_exhaust_memory() -> None:
    with pytest.raises(InvalidInput, match="sentence 1: 'include' is not available"):
        write_narrative(fact_set(), ("{% include 'secrets.html' %}",), locale="en_US")
    with pytest.raises(InvalidInput, match="sentence 1 reaches outside the sandbox"):
        write_narrative(fact_set(), ("{{ 'x' * 1000000000 }}",), locale="en_US")
    with pytest.raises(InvalidInput, match="exponent"):
        write_narrative(fact_set(), ("{{ 9 ** 99999999 }}",), locale="en_US")


def test_immutable_sandbox_refuses_mutation() -> None:
    with pytest.raises(InvalidInput, match="sentence 1"):
        write_narrative(fact_set(), ("{% set xs = [1] %}{{ xs.append(2) }}",), locale="en_US")


def test_a_syntax_error_names_the_sentence_and_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        write_narrative(fact_set(), ("{{ total }}", "fine\nstill fine\n{{ total "), locale="en_US")
    (problem,) = caught.value.problems
    assert problem.startswith("sentence 2, line 3: syntax error")


def test_an_unknown_fact_names_the_available_facts() -> None:
    with pytest.raises(InvalidInput) as caught:
        write_narrative(fact_set(), ("{{ totl }} and {{ revnue }}",), locale="en_US")
    (problem,) = caught.value.problems
    assert "sentence 1: unknown fact 'revnue', 'totl'" in problem
    assert "available facts: " in problem
    assert "total" in problem.split("available facts: ")[1].split(", ")


def test_an_unknown_field_of_a_fact_says_what_a_fact_has() -> None:
    with pytest.raises(InvalidInput, match=r"sentence 1: .*bogus.*a fact has: value, formatted"):
        write_narrative(fact_set(), ("{{ total.bogus }}",), locale="en_US")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        write_narrative(
            fact_set(),
            ("{{ nope }}", "{{ total }}", "{{ ''.__class__ }}", "{% if %}"),
            locale="en_US",
        )
    assert [p.split(" ")[1].rstrip(":,") for p in caught.value.problems] == ["1", "3", "4"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Region", "region"), ("Product category", "product category"), ("SLA tier", "SLA tier")],
)
def test_labels_inside_sentences(label: str, expected: str) -> None:
    assert lower_first(label) == expected


def _totals(label: str, fmt: MeasureFormat, value: float, *, same_earlier: bool) -> FactSet:
    m = MeasureFacts("measure", label, fmt, LocaleFormatter("en_US"))
    window = resolve_window(
        TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1)), date(2026, 11, 1)
    )
    total = total_fact(m, pd.DataFrame({"measure": [value]}), SOURCE)
    earlier = pd.DataFrame({"measure": [value / 2]})
    year_source = SOURCE.model_copy(update={"query_hash": ("e" if same_earlier else "f") * 64})
    return FactSet(
        "measure",
        label,
        (
            period_fact(m, window, SOURCE),
            total,
            *comparison_facts(
                m,
                "prior_period",
                total,
                earlier,
                SOURCE.model_copy(update={"query_hash": "e" * 64}),
            ),
            *comparison_facts(m, "prior_year", total, earlier, year_source),
        ),
    )


@pytest.mark.parametrize(
    ("label", "fmt", "start"),
    [
        ("SLA breaches", MeasureFormat.INTEGER, "There were "),
        ("Sales", MeasureFormat.CURRENCY, "Sales were "),
        ("Revenue", MeasureFormat.CURRENCY, "Revenue was "),
        ("Average order value", MeasureFormat.NUMBER, "Average order value was "),
        ("Status", MeasureFormat.INTEGER, "Status was "),
    ],
)
def test_the_total_sentence_agrees_with_its_measure(
    label: str, fmt: MeasureFormat, start: str
) -> None:
    first = write_narrative(_totals(label, fmt, 60, same_earlier=False), locale="en_US")[0]
    assert first.startswith(start)
    if start == "There were ":
        text = re.sub(r"<[^>]+>", "", first)
        assert text.startswith("There were 60 SLA breaches in 2025, ")


def test_a_prior_period_that_is_the_prior_year_is_told_once() -> None:
    """Over a whole past year the prior period is the prior year: one sentence, not two."""
    same = " ".join(
        write_narrative(
            _totals("Revenue", MeasureFormat.CURRENCY, 60, same_earlier=True), locale="en_US"
        )
    )
    assert "vs the prior period" in same
    assert "a year earlier" not in same
    apart = " ".join(
        write_narrative(
            _totals("Revenue", MeasureFormat.CURRENCY, 60, same_earlier=False), locale="en_US"
        )
    )
    assert "a year earlier" in apart


def test_linked_fact_ids_reads_the_links_the_sentences_write() -> None:
    sentences = write_narrative(fact_set(), locale="en_US")
    for sentence in sentences:
        assert linked_fact_ids(sentence) == {found for found, _ in LINK.findall(sentence)}
    quoted = set().union(*(linked_fact_ids(s) for s in sentences))
    assert "revenue-total" in quoted
    # A name (the top region) is written, not linked: it is no number to trace.
    assert "EMEA" in " ".join(sentences)
    assert not any(f.unit == "text" for f in fact_set() if f.id in quoted)
