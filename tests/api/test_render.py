"""/api/v1/render: small PDFs while the caller waits, anything else as a job; checked downloads."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.api.conftest import TestClient, bearer
from tests.api.test_problems import assert_problem

AS_OF = "2026-10-31T07:30:00+00:00"
JOB_DEADLINE_S = 120


def spec(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "API test",
        "dataset": "sales",
        "time_range": {"preset": "last_30_days"},
        "blocks": list(blocks)
        or [
            {
                "kind": "table",
                "title": "By region",
                "dimensions": ["region"],
                "measures": ["revenue"],
            }
        ],
    }


def wait_for_job(client: TestClient, owner: str, job_id: str) -> None:
    """Block until the job ends (or the deadline passes), on the job's own completion event."""
    job = client.app.state.reportgen.jobs.get(owner, job_id)  # type: ignore[attr-defined]
    assert job.done.wait(JOB_DEADLINE_S), f"render job {job_id} did not end in {JOB_DEADLINE_S} s"


def test_a_csv_render_is_a_job_whose_files_download_with_checksums(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["ana"])

    queued = client.post(
        "/api/v1/render", headers=headers, json={"spec": spec(), "formats": ["csv"], "as_of": AS_OF}
    )
    assert queued.status_code == 202, queued.text
    job_url = queued.headers["location"]
    wait_for_job(client, "ana", queued.json()["id"])
    job = client.get(job_url, headers=headers).json()

    assert job["status"] == "succeeded"
    [file] = job["files"]
    assert file["filename"].endswith(".csv")
    download = client.get(file["download_url"], headers=headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == file["sha256"]
    assert download.headers["x-checksum-sha256"] == file["sha256"]
    assert download.headers["repr-digest"].startswith("sha-256=:")
    assert download.headers["content-disposition"].startswith('attachment; filename="')
    assert b"EMEA" in download.content
    assert b"Americas" not in download.content  # ana's row policy applies


def test_waiting_renders_answer_the_files_at_once(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/render?wait=true",
        headers=bearer(tokens["victor"]),
        json={"spec": spec(), "formats": ["csv"], "as_of": AS_OF},
    )

    body = response.json()
    assert response.status_code == 200, response.text
    assert body["status"] == "succeeded"
    assert body["files"][0]["size_bytes"] > 0


def test_a_render_the_catalog_refuses_is_a_400_when_waited_for(
    client: TestClient, tokens: dict[str, str]
) -> None:
    bad = spec({"kind": "table", "title": "T", "dimensions": ["region"], "measures": ["nope"]})

    response = client.post(
        "/api/v1/render?wait=true", headers=bearer(tokens["ana"]), json={"spec": bad}
    )

    assert "nope" in str(assert_problem(response, 400)["detail"])


def test_jobs_are_private_to_their_owner(client: TestClient, tokens: dict[str, str]) -> None:
    queued = client.post(
        "/api/v1/render?wait=false",
        headers=bearer(tokens["ana"]),
        json={"spec": spec(), "formats": ["csv"], "as_of": AS_OF},
    ).json()
    wait_for_job(client, "ana", queued["id"])

    other = client.get(f"/api/v1/render/jobs/{queued['id']}", headers=bearer(tokens["victor"]))

    assert_problem(other, 404)


def test_a_small_pdf_is_rendered_while_the_caller_waits(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["ana"])
    kpis = spec({"kind": "kpis", "tiles": [{"measure": "revenue"}, {"measure": "orders"}]})

    response = client.post("/api/v1/render", headers=headers, json={"spec": kpis, "as_of": AS_OF})

    assert response.status_code == 200, response.text
    [file] = response.json()["files"]
    pdf = client.get(file["download_url"], headers=headers)
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
