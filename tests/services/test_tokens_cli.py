"""`reportgen tokens`: create prints the secret once, list never does, revoke stops it working."""

from __future__ import annotations

from pathlib import Path

from reportgen.bootstrap import build_services
from reportgen.settings import load_settings
from tests.test_cli import env, run  # noqa: F401 - the CLI tests' environment fixture


def test_create_list_and_revoke(env: Path) -> None:  # noqa: F811 - the fixture imported above
    code, out, _ = run("tokens", "create", "ana", "--name", "nightly export", "--days", "30")
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("rgt_")

    services = build_services(load_settings())
    try:
        principal = services.tokens.authenticate(secret)
        [token] = services.tokens.list(services.users.principal("ana"))
    finally:
        services.close()
    assert principal is not None and principal.username == "ana"

    code, listed, _ = run("tokens", "list")
    assert code == 0
    [line] = [line for line in listed.splitlines() if token.id in line]
    assert "ana  active  author" in line
    assert line.endswith("nightly export")
    assert secret not in listed

    code, revoked, _ = run("tokens", "revoke", token.id)
    assert code == 0
    assert "revoked" in revoked
    services = build_services(load_settings())
    try:
        assert services.tokens.authenticate(secret) is None
    finally:
        services.close()


def test_bad_input_is_one_sentence_per_problem(env: Path) -> None:  # noqa: F811
    code, _, err = run("tokens", "create", "victor", "--name", "x", "--scope", "admin")
    assert code == 1
    assert "cannot grant admin" in err

    code, _, err = run("tokens", "revoke", "no-such-token")
    assert code == 1
    assert "no token 'no-such-token'" in err
