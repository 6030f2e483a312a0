"""Split rendered Helm manifests for validation: built-in kinds for kubernetes-validate, custom
resources against the strict schemas in infra/helm/crd-schemas/.

kubernetes-validate bundles the schemas of Kubernetes' own kinds only; a ServiceMonitor or a
SecretProviderClass makes it fail with "schema not found". So this script writes every built-in
object to OUT_DIR (one file each) for `kubernetes-validate --strict`, validates each custom
object itself, and fails on any kind it has no schema for: nothing passes unchecked.

    python infra/scripts/validate_manifests.py OUT_DIR RENDERED.yaml...

Run with .venv-infra/bin/python (jsonschema and PyYAML come with kubernetes-validate).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parents[1] / "helm" / "crd-schemas"
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    (
        "secrets-store.csi.x-k8s.io/v1",
        "SecretProviderClass",
    ): "secretproviderclass-secrets-store.csi.x-k8s.io-v1.json",
}
BUILT_IN_GROUPS = ("v1", "apps/", "batch/", "autoscaling/", "policy/", "networking.k8s.io/")


def load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def problems_of(document: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


def check_custom(document: dict) -> list[str]:
    key = (document["apiVersion"], document["kind"])
    problems = problems_of(document, load(CUSTOM[key]))
    if key[1] == "SecretProviderClass" and not problems:
        objects = yaml.safe_load(document["spec"]["parameters"].get("objects", "[]"))
        problems += [
            f"spec/parameters/objects/{p}"
            for p in problems_of(objects, load("aws-provider-objects.json"))
        ]
    return problems


def main(out_dir: str, *rendered: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    built_in = custom = 0
    for source in rendered:
        documents = [d for d in yaml.safe_load_all(Path(source).read_text()) if d]
        for index, document in enumerate(documents):
            api, kind = document.get("apiVersion", ""), document.get("kind", "")
            name = f"{kind}/{document.get('metadata', {}).get('name', '?')}"
            if (api, kind) in CUSTOM:
                custom += 1
                problems = check_custom(document)
                for problem in problems:
                    print(f"{source}: {name}: {problem}")
                failures += bool(problems)
            elif api == "v1" or api.startswith(BUILT_IN_GROUPS):
                built_in += 1
                target = out / f"{Path(source).stem}-{index:02d}-{kind.lower()}.yaml"
                target.write_text(yaml.safe_dump(document, sort_keys=False))
            else:
                print(f"{source}: {name}: no schema for {api} {kind}; add one to {SCHEMAS}")
                failures += 1
    print(
        f"manifests: {built_in} built-in objects written for kubernetes-validate, "
        f"{custom} custom objects checked against strict CRD schemas, {failures} failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
