"""The runs list documents what its time filters compare: the fire time, not the creation."""

from __future__ import annotations

from tests.api.conftest import TestClient


def test_since_and_until_are_documented_as_fire_time(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/runs"]["get"]["parameters"]}

    for name in ("since", "until"):
        description = parameters[name]["description"]
        assert "fire time" in description
        assert "created" not in description
