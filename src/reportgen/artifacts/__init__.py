"""Rendered files, stored immutably and bundled with a manifest that vouches for them.

- `open_artifact_store(url)` opens the store `REPORTGEN_ARTIFACTS_URL` names: a
  `LocalArtifactStore` for ``file://``, an `S3ArtifactStore` (reportgen.artifacts.s3) for
  ``s3://bucket/prefix``. Every store is an `ArtifactStore`: ``put`` (atomic, immutable),
  ``get``, ``exists``, ``url_for``, ``key_of``; keys are relative POSIX paths, checked by
  `validate_key`.
- `write_bundle(store, prefix, files, manifest)` stores a render's `BundleFile`s and then
  ``manifest.json`` with each file's size and SHA-256; `verify_bundle` lists what no longer
  matches. `slug` and `safe_filename` turn a report title into a key part or a file name.
"""

from reportgen.artifacts.bundle import (
    MANIFEST_NAME,
    Bundle,
    BundleFile,
    canonical_json,
    read_manifest,
    safe_filename,
    slug,
    verify_bundle,
    write_bundle,
)
from reportgen.artifacts.store import (
    ArtifactConflict,
    ArtifactStore,
    LocalArtifactStore,
    StoredArtifact,
    open_artifact_store,
    validate_key,
)

__all__ = [
    "MANIFEST_NAME",
    "ArtifactConflict",
    "ArtifactStore",
    "Bundle",
    "BundleFile",
    "LocalArtifactStore",
    "StoredArtifact",
    "canonical_json",
    "open_artifact_store",
    "read_manifest",
    "safe_filename",
    "slug",
    "validate_key",
    "verify_bundle",
    "write_bundle",
]
