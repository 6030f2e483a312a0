"""/api/v1/datasets: only what the token's user may use, with their limits spelled out."""

from __future__ import annotations

from tests.api.conftest import TestClient, bearer


def test_each_user_lists_the_datasets_their_roles_allow(
    client: TestClient, tokens: dict[str, str]
) -> None:
    victor = client.get("/api/v1/datasets", headers=bearer(tokens["victor"])).json()
    ana = client.get("/api/v1/datasets", headers=bearer(tokens["ana"])).json()
    searched = client.get("/api/v1/datasets?search=ticket", headers=bearer(tokens["ana"])).json()

    assert [d["name"] for d in victor] == ["sales", "support_tickets"]
    assert [d["name"] for d in ana] == ["customers", "sales", "support_tickets", "targets"]
    assert [d["name"] for d in searched] == ["support_tickets"]
    assert len(victor[0]["version"]) == 16


def test_detail_shows_the_callers_measures_limits_and_masks(
    client: TestClient, tokens: dict[str, str]
) -> None:
    victor = client.get("/api/v1/datasets/sales", headers=bearer(tokens["victor"])).json()
    ana = client.get("/api/v1/datasets/sales", headers=bearer(tokens["ana"])).json()
    customers = client.get("/api/v1/datasets/customers", headers=bearer(tokens["ana"])).json()

    victor_measures = {m["name"] for m in victor["measures"]}
    ana_measures = {m["name"] for m in ana["measures"]}
    assert "revenue" in victor_measures
    assert ana_measures - victor_measures  # margins are for authors and admins only
    assert any("Americas" in limit for limit in victor["row_limits"])
    assert customers["masked_columns"]
    assert victor["freshness"]["sla_hours"] is not None
    assert victor["time_column"] == "order_date"
