"""Row policies and masks: every demo user against every dataset, row for row."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from reportgen.bootstrap import Services
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, QueryRequest
from reportgen.domain.sql import REDACTED
from reportgen.errors import NotAllowed
from tests.conftest import ADMIN, ANA, VICTOR

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


def raw_keys(
    warehouse_path: Path, dataset: str, regions: tuple[str, ...]
) -> list[tuple[object, ...]]:
    table, key = KEYS[dataset]
    placeholders = ", ".join("?" for _ in regions)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        sql = f"SELECT {key} FROM {table} WHERE region IN ({placeholders}) ORDER BY {key}"
        return [tuple(r) for r in con.execute(sql, list(regions)).fetchall()]


@pytest.mark.parametrize("principal", [ADMIN, ANA, VICTOR], ids=lambda p: p.username)
@pytest.mark.parametrize("dataset", sorted(KEYS))
def test_rls_matrix(
    services: Services, warehouse_path: Path, principal: Principal, dataset: str
) -> None:
    if dataset not in ALLOWED[principal.username]:
        with pytest.raises(NotAllowed, match=f"not allowed to use the dataset '{dataset}'"):
            services.queries.sample(principal, dataset, rows=100_000)
        denied = services.audit.recent(actor=principal.username, action="dataset.access")
        assert [(e.target, e.outcome) for e in denied] == [(dataset, "denied")]
        return
    result = services.queries.sample(principal, dataset, rows=100_000)
    frame = result.frame
    regions = ALL_REGIONS if principal.is_admin else principal.attributes["region"]
    assert sorted(frame["region"].unique()) == sorted(regions)
    _, key = KEYS[dataset]
    columns = [c.strip() for c in key.split(",")]
    got = sorted(tuple(row) for row in frame[columns].itertuples(index=False))
    assert got == raw_keys(warehouse_path, dataset, regions)
    expected_columns = [c.name for c in services.catalog.catalog.get(dataset).columns]  # type: ignore[union-attr]
    assert list(frame.columns) == expected_columns


def test_pii_is_masked_for_authors_and_clear_for_admins(
    services: Services, warehouse_path: Path
) -> None:
    masked = services.queries.sample(ANA, "customers", rows=50).frame
    clear = services.queries.sample(ADMIN, "customers", rows=100_000).frame.set_index("customer_id")
    assert (masked["name"] == REDACTED).all()
    assert masked["email"].map(lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v))).all()
    assert masked["phone"].map(lambda v: v.startswith("***") and len(v) == 7).all()
    for row in masked.itertuples(index=False):
        original = clear.loc[row.customer_id]
        assert row.email == hashlib.sha256(original["email"].encode()).hexdigest()
        assert row.phone == "***" + original["phone"][-4:]
        assert "@" in original["email"] and original["name"] != REDACTED


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


def test_a_principal_without_the_attribute_sees_no_rows(services: Services) -> None:
    nomad = Principal(username="nomad", roles={"author"})
    result = services.queries.run(
        nomad, QueryRequest(dataset="sales", dimensions=("region",), measures=("revenue",))
    )
    assert result.row_count == 0
    assert "no rows: the account has no 'region' attribute" in result.access


def test_several_regions_union(services: Services) -> None:
    both = Principal(username="duo", roles={"viewer"}, attributes={"region": ["EMEA", "APAC"]})
    frame = services.queries.run(
        both, QueryRequest(dataset="sales", dimensions=("region",), measures=("orders",))
    ).frame
    assert list(frame["region"]) == ["APAC", "EMEA"]


def test_distinct_values_respect_policies(services: Services) -> None:
    assert services.queries.distinct_values(VICTOR, "sales", "region") == ["Americas"]
    assert services.queries.distinct_values(ADMIN, "sales", "region") == list(ALL_REGIONS)


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
