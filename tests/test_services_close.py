"""Services.close releases every channel that holds something, then the warehouse and the DB."""

from __future__ import annotations

import logging

import pytest

from reportgen.bootstrap import Services


def test_close_closes_each_channel_even_when_one_fails(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[str] = []

    def broken() -> None:
        closed.append("email")
        raise OSError("connection reset while closing")

    monkeypatch.setattr(services.channels["email"], "close", broken, raising=False)
    monkeypatch.setattr(services.channels["webhook"], "close", lambda: closed.append("webhook"))
    disposed: list[bool] = []
    dispose = services.store.dispose
    monkeypatch.setattr(services.store, "dispose", lambda: (disposed.append(True), dispose()))

    with caplog.at_level(logging.ERROR, logger="reportgen"):
        services.close()

    assert sorted(closed) == ["email", "webhook"]
    assert disposed == [True]
    assert any("closing the email channel failed" in r.getMessage() for r in caplog.records)
