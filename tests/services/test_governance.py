"""Row policies and masks: every demo user against every dataset, row for row, total for total."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from reportgen.bootstrap import Services, build_services, deployment_secret
from reportgen.domain.catalog import Catalog, MaskKind
from reportgen.domain.principal import Principal, Role
from reportgen.domain.query import Filter, Operator, QueryRequest
from reportgen.domain.sql import REDACTED
from reportgen.errors import NotAllowed
from tests.conftest import ADMIN, ANA, VICTOR, make_settings

ALL_REGIONS = ("APAC", "Americas", "EMEA")
KEYS = {
    "sales": ("orders", "order_id"),
    "customers": ("customers", "customer_id"),
    "support_tickets": ("support_tickets", "ticket_id"),
    "targets": ("targets", "month, region, category"),
}
# Who may open what: victor is a viewer, the confidential datasets are for authors and admins.
ALLOWED = {
    "admin": {"sales", "customers", "support_tickets", "targets"},
    "ana": {"sales", "customers", "support_tickets", "targets"},
    "victor": {"sales", "support_tickets"},
}
# Which columns each user reads masked, and how; anything not listed is read in clear.
MASKED = {
    ("ana", "customers"): {
        "name": MaskKind.REDACT,
        "email": MaskKind.HASH,
        "phone": MaskKind.PARTIAL,
    },
    ("victor", "sales"): {"cost": MaskKind.REDACT},
}
# Per dataset: measures every allowed user may ask for, with the same total in plain SQL, plus
# the measures only authors and admins may use.
TOTALS = {
    "sales": {"orders": "count(*)", "revenue": "sum(revenue)", "units": "sum(units)"},
    "customers": {"customers": "count(*)", "reachable_by_email": "count(email)"},
    "support_tickets": {
        "tickets": "count(*)",
        "open_tickets": "count(*) FILTER (WHERE status <> 'solved')",
        "sla_breaches": "count(*) FILTER (WHERE sla_breached)",
    },
    "targets": {"revenue_target": "sum(revenue_target)", "units_target": "sum(units_target)"},
}
AUTHOR_TOTALS = {"sales": {"cost": "sum(cost)", "gross_margin": "sum(revenue) - sum(cost)"}}


def readers(principals: list[Principal]) -> list[tuple[Principal, str]]:
    """Every (principal, dataset) pair the principal may read."""
    return [(p, d) for p in principals for d in sorted(ALLOWED[p.username])]


def pair_id(value: object) -> str:
    return value.username if isinstance(value, Principal) else str(value)


def regions_of(principal: Principal) -> tuple[str, ...]:
    return ALL_REGIONS if principal.is_admin else tuple(principal.attributes["region"])


def raw(warehouse_path: Path, sql: str, params: list[object]) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql, params).fetchall()]


def raw_keys(
    warehouse_path: Path, dataset: str, regions: tuple[str, ...]
) -> list[tuple[object, ...]]:
    table, key = KEYS[dataset]
    placeholders = ", ".join("?" for _ in regions)
    sql = f"SELECT {key} FROM {table} WHERE region IN ({placeholders}) ORDER BY {key}"
    return raw(warehouse_path, sql, list(regions))


def mask_key(services: Services) -> str:
    return deployment_secret(services.settings, "mask", services.settings.mask_key)


def keyed_sha256(key: str, value: str) -> str:
    return hashlib.sha256((key + value).encode()).hexdigest()


def expected_mask(kind: MaskKind, value: object, key: str) -> object:
    if value is None:
        return None  # NULL stays NULL under every mask
    text = str(value)
    return {
        MaskKind.HASH: lambda: keyed_sha256(key, text),
        MaskKind.REDACT: lambda: REDACTED,
        MaskKind.PARTIAL: lambda: "***" + text[-4:],
    }[kind]()


@pytest.mark.parametrize("principal", [ADMIN, ANA, VICTOR], ids=lambda p: p.username)
@pytest.mark.parametrize("dataset", sorted(KEYS))
def test_rls_matrix(
    services: Services, warehouse_path: Path, principal: Principal, dataset: str
) -> None:
    if dataset not in ALLOWED[principal.username]:
        with pytest.raises(NotAllowed, match=f"not allowed to use the dataset '{dataset}'"):
            services.queries.sample(principal, dataset, rows=100_000)
        with pytest.raises(NotAllowed, match=f"not allowed to use the dataset '{dataset}'"):
            services.queries.run(principal, QueryRequest(dataset=dataset, dimensions=("region",)))
        denied = services.audit.recent(actor=principal.username, action="dataset.access")
        assert [(e.target, e.outcome) for e in denied] == [(dataset, "denied")] * 2
        return
    result = services.queries.sample(principal, dataset, rows=100_000)
    frame = result.frame
    regions = regions_of(principal)
    assert sorted(frame["region"].unique()) == sorted(regions)
    _, key = KEYS[dataset]
    columns = [c.strip() for c in key.split(",")]
    got = sorted(tuple(row) for row in frame[columns].itertuples(index=False))
    assert got == raw_keys(warehouse_path, dataset, regions)
    expected_columns = [c.name for c in services.catalog.catalog.get(dataset).columns]  # type: ignore[union-attr]
    assert list(frame.columns) == expected_columns


@pytest.mark.parametrize(("principal", "dataset"), readers([ADMIN, ANA, VICTOR]), ids=pair_id)
def test_rls_matrix_totals_per_region(
    services: Services, warehouse_path: Path, principal: Principal, dataset: str
) -> None:
    """Aggregates see exactly the principal's regions, total for total against plain SQL."""
    totals = dict(TOTALS[dataset])
    if not principal.has_any_role({Role.AUTHOR, Role.ADMIN}):
        for name in AUTHOR_TOTALS.get(dataset, {}):
            with pytest.raises(NotAllowed, match=f"measure '{name}'"):
                services.queries.run(principal, QueryRequest(dataset=dataset, measures=(name,)))
    else:
        totals |= AUTHOR_TOTALS.get(dataset, {})
    result = services.queries.run(
        principal,
        QueryRequest(dataset=dataset, dimensions=("region",), measures=tuple(totals)),
    )
    regions = regions_of(principal)
    table, _ = KEYS[dataset]
    placeholders = ", ".join("?" for _ in regions)
    want = raw(
        warehouse_path,
        f"SELECT region, {', '.join(totals.values())} FROM {table} "
        f"WHERE region IN ({placeholders}) GROUP BY region ORDER BY region",
        list(regions),
    )
    got = [tuple(row.values()) for row in result.table.to_pylist()]
    assert got == want
    assert [row[0] for row in got] == sorted(regions)


@pytest.mark.parametrize(("principal", "dataset"), readers([ANA, VICTOR]), ids=pair_id)
def test_rls_matrix_masked_values(
    services: Services, warehouse_path: Path, principal: Principal, dataset: str
) -> None:
    """Every masked column reads masked, value for value, for every non-admin who may read it."""
    catalog_dataset = services.catalog.catalog.get(dataset)
    assert catalog_dataset is not None
    masks = {c.name: kind for c in catalog_dataset.columns if (kind := c.masked_for(principal))}
    assert masks == MASKED.get((principal.username, dataset), {})
    result = services.queries.sample(principal, dataset, rows=100_000)
    table, key = KEYS[dataset]
    keys = [c.strip() for c in key.split(",")]
    regions = regions_of(principal)
    placeholders = ", ".join("?" for _ in regions)
    clear = raw(
        warehouse_path,
        f"SELECT {key}, {', '.join(c.name for c in catalog_dataset.columns)} FROM {table} "
        f"WHERE region IN ({placeholders}) ORDER BY {key}",
        list(regions),
    )
    names = [c.name for c in catalog_dataset.columns]
    secret = mask_key(services)
    got = {tuple(row[k] for k in keys): row for row in result.table.to_pylist()}
    assert len(got) == len(clear) > 0
    for raw_row in clear:
        row_key, values = raw_row[: len(keys)], dict(zip(names, raw_row[len(keys) :], strict=True))
        seen = got[row_key]
        for column, kind in masks.items():
            assert seen[column] == expected_mask(kind, values[column], secret), (row_key, column)
            if values[column] is not None and kind is not MaskKind.PARTIAL:
                assert seen[column] != values[column]
        for column in set(names) - set(masks):
            assert seen[column] == values[column], (row_key, column)


def test_pii_is_masked_for_authors_and_clear_for_admins(
    services: Services, warehouse_path: Path
) -> None:
    masked = services.queries.sample(ANA, "customers", rows=50).frame
    clear = services.queries.sample(ADMIN, "customers", rows=100_000).frame.set_index("customer_id")
    key = mask_key(services)
    assert (masked["name"] == REDACTED).all()
    assert masked["email"].map(lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v))).all()
    assert masked["phone"].map(lambda v: v.startswith("***") and len(v) == 7).all()
    for row in masked.itertuples(index=False):
        original = clear.loc[row.customer_id]
        assert row.email == keyed_sha256(key, original["email"])
        assert row.phone == "***" + original["phone"][-4:]
        assert "@" in original["email"] and original["name"] != REDACTED


def test_hashed_masks_are_keyed_so_guessing_the_value_does_not_reverse_them(
    services: Services,
) -> None:
    masked = services.queries.sample(ANA, "customers", rows=50).frame.set_index("customer_id")
    clear = services.queries.sample(ADMIN, "customers", rows=100_000).frame
    clear = clear.set_index("customer_id").loc[masked.index]
    key = mask_key(services)
    assert len(key) >= 32 and len(clear) == 50
    for customer_id, email in clear["email"].items():
        # Hashing a guessed address (here: the right one) does not give the masked value.
        assert masked.loc[customer_id, "email"] != hashlib.sha256(email.encode()).hexdigest()
        assert masked.loc[customer_id, "email"] == keyed_sha256(key, email)
    result = services.queries.sample(ANA, "customers", rows=50)
    assert key not in result.query.sql
    assert all(key not in str(p) for p in result.query.params)
    assert result.query.uses_mask_key
    events = services.audit.recent(actor="ana", action="dataset.sample")
    assert events and all(key not in str(e.details) for e in events)


def test_another_deployment_key_gives_other_hashes(
    tmp_path: Path, warehouse_path: Path, catalog: Catalog, services: Services
) -> None:
    other = build_services(
        make_settings(tmp_path / "other", warehouse_path, mask_key="another-deployment-" * 3),
        catalog=catalog,
        upgrade=True,
    )
    try:
        mine = services.queries.sample(ANA, "customers", rows=20).frame
        theirs = other.queries.sample(ANA, "customers", rows=20).frame
        clear = other.queries.sample(ADMIN, "customers", rows=100_000).frame
    finally:
        other.close()
    assert list(mine["customer_id"]) == list(theirs["customer_id"])
    assert not set(mine["email"]) & set(theirs["email"])
    emails = dict(zip(clear["customer_id"], clear["email"], strict=True))
    assert list(theirs["email"]) == [
        keyed_sha256("another-deployment-" * 3, emails[i]) for i in theirs["customer_id"]
    ]


def test_filters_on_a_masked_column_match_masked_values_only(services: Services) -> None:
    clear = services.queries.sample(ADMIN, "customers", rows=1).frame
    email = clear["email"].iloc[0]
    request = QueryRequest(
        dataset="customers",
        measures=("customers",),
        filters=(Filter(field="email", op=Operator.EQ, value=email),),
    )
    # An author cannot probe a clear e-mail address: inside the query it is already hashed.
    assert services.queries.run(ANA, request).frame["customers"].iloc[0] == 0
    assert services.queries.run(ADMIN, request).frame["customers"].iloc[0] == 1
    unkeyed = request.model_copy(
        update={
            "filters": (Filter(field="email", value=hashlib.sha256(email.encode()).hexdigest()),)
        }
    )
    assert services.queries.run(ANA, unkeyed).frame["customers"].iloc[0] == 0


def test_cost_is_redacted_for_viewers_and_clear_for_authors(
    services: Services, warehouse_path: Path
) -> None:
    victor = services.queries.sample(VICTOR, "sales", rows=50).frame
    ana = services.queries.sample(ANA, "sales", rows=50).frame
    assert set(victor["cost"]) == {REDACTED}
    assert "cost masked (redact)" in services.queries.sample(VICTOR, "sales", rows=1).access
    costs = dict(raw(warehouse_path, "SELECT order_id, cost FROM orders", []))
    assert [costs[i] for i in ana["order_id"]] == list(ana["cost"])
    assert all(c is not None and c > 0 for c in ana["cost"])


@pytest.mark.parametrize(
    "flt",
    [
        Filter(field="cost", op=Operator.GT, value="100"),
        Filter(field="cost", op=Operator.GT, value=100),
        Filter(field="cost", op=Operator.EQ, value=5),
        Filter(field="cost", op=Operator.LT, value="1000"),
        Filter(field="cost", op=Operator.BETWEEN, value=(0, 500)),
        Filter(field="cost", op=Operator.IN, value=(5, "12.50")),
        Filter(field="cost", op=Operator.CONTAINS, value="."),
    ],
    ids=lambda f: f.describe(),
)
def test_filtering_on_masked_cost_selects_nothing_by_cost(
    services: Services, warehouse_path: Path, flt: Filter
) -> None:
    request = QueryRequest(dataset="sales", measures=("orders",), filters=(flt,))
    everything = services.queries.run(VICTOR, QueryRequest(dataset="sales", measures=("orders",)))
    total = everything.frame["orders"].iloc[0]
    got = services.queries.run(VICTOR, request).frame["orders"].iloc[0]
    # The filter compares the marker, never a cost: all of victor's rows or none of them.
    assert got in (0, total)


def test_authors_filter_on_cost_by_value(services: Services, warehouse_path: Path) -> None:
    request = QueryRequest(
        dataset="sales",
        measures=("orders",),
        filters=(Filter(field="cost", op=Operator.GT, value="100"),),
    )
    got = services.queries.run(ANA, request).frame["orders"].iloc[0]
    ((want, total),) = raw(
        warehouse_path,
        "SELECT count(*) FILTER (WHERE cost > 100), count(*) FROM orders WHERE region = 'EMEA'",
        [],
    )
    assert got == want and 0 < want < total


def test_a_measure_over_a_masked_column_is_refused_and_audited(
    tmp_path: Path, warehouse_path: Path, catalog: Catalog
) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    # As if someone opened the cost measures to every role but left per-row cost masked.
    opened = sales.model_copy(
        update={
            "measures": tuple(m.model_copy(update={"allowed_roles": None}) for m in sales.measures)
        }
    )
    others = {d.name: d for d in catalog if d.name != "sales"}
    svc = build_services(
        make_settings(tmp_path, warehouse_path),
        catalog=Catalog({**others, "sales": opened}),
        upgrade=True,
    )
    try:
        request = QueryRequest(dataset="sales", dimensions=("region",), measures=("gross_margin",))
        with pytest.raises(
            NotAllowed,
            match=r"not allowed to use the measure 'gross_margin' of sales: it reads cost, which "
            r"you see masked\. Ask an admin or the dataset's steward \(finance-data@",
        ):
            svc.queries.run(VICTOR, request)
        (event,) = svc.audit.recent(actor="victor", action="measure.access")
        assert event.outcome == "denied"
        assert event.details == {"measures": ["gross_margin"], "masked_columns": ["cost"]}
        assert svc.audit.recent(actor="victor", action="dataset.query") == []
        assert svc.queries.run(ANA, request).row_count == 1  # authors read cost in clear
    finally:
        svc.close()


def test_counting_a_masked_column_is_allowed(services: Services, warehouse_path: Path) -> None:
    request = QueryRequest(dataset="customers", measures=("reachable_by_email",))
    got = services.queries.run(ANA, request).frame["reachable_by_email"].iloc[0]
    ((want,),) = raw(warehouse_path, "SELECT count(email) FROM customers WHERE region = 'EMEA'", [])
    assert got == want > 0


def test_a_principal_without_the_attribute_sees_no_rows(services: Services) -> None:
    nomad = Principal(username="nomad", roles={"author"})
    result = services.queries.run(
        nomad, QueryRequest(dataset="sales", dimensions=("region",), measures=("revenue",))
    )
    assert result.row_count == 0
    assert "no rows: the account has no 'region' attribute" in result.access
    assert services.queries.freshness(nomad, services.catalog.catalog.get("sales")) is None  # type: ignore[arg-type]


def test_several_regions_union(services: Services) -> None:
    both = Principal(username="duo", roles={"viewer"}, attributes={"region": ["EMEA", "APAC"]})
    frame = services.queries.run(
        both, QueryRequest(dataset="sales", dimensions=("region",), measures=("orders",))
    ).frame
    assert list(frame["region"]) == ["APAC", "EMEA"]


def test_distinct_values_respect_policies_and_are_audited(services: Services) -> None:
    assert services.queries.distinct_values(VICTOR, "sales", "region") == ["Americas"]
    assert services.queries.distinct_values(ADMIN, "sales", "region") == list(ALL_REGIONS)
    (event,) = services.audit.recent(actor="victor", action="dataset.values")
    assert event.target == "sales" and event.outcome == "allowed"
    assert event.details["rows"] == 1 and "query_hash" in event.details


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_freshness_is_read_under_row_limits(
    services: Services, warehouse_path: Path, region: str
) -> None:
    tickets = services.catalog.catalog.get("support_tickets")
    assert tickets is not None
    local = Principal(username="local", roles={"viewer"}, attributes={"region": [region]})
    latest = dict(
        raw(warehouse_path, "SELECT region, max(opened_at) FROM support_tickets GROUP BY 1", [])
    )
    assert len(set(latest.values())) == 3  # each region's latest ticket is at its own moment
    assert services.queries.freshness(local, tickets) == latest[region]
    assert services.queries.freshness(ADMIN, tickets) == max(latest.values())
    assert services.catalog.freshness(local, "support_tickets").latest == latest[region]
    result = services.queries.run(
        local, QueryRequest(dataset="support_tickets", measures=("tickets",))
    )
    assert result.freshness == latest[region]


def test_restricted_measures_are_refused_and_audited(services: Services) -> None:
    request = QueryRequest(
        dataset="sales", dimensions=("region",), measures=("revenue", "margin_pct")
    )
    with pytest.raises(
        NotAllowed, match=r"measure 'margin_pct' of sales; it is open to the roles: admin, author"
    ):
        services.queries.run(VICTOR, request)
    (event,) = services.audit.recent(actor="victor", action="measure.access")
    assert event.outcome == "denied" and event.details == {"measures": ["margin_pct"]}
    margin = services.queries.run(ANA, request).frame["margin_pct"].iloc[0]
    assert 0 < float(margin) < 1
