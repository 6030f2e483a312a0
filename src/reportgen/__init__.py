"""reportgen: governed, distribution-ready reports from a warehouse.

The public surface, for the UI, the API, the scheduler and scripts:

- `load_settings()` reads the deployment's `Settings` from ``REPORTGEN_*`` variables.
- `build_services(settings)` wires the adapters and returns the `Services` every door uses:
  catalog browsing, governed queries, users and the audit log.
- `Principal`, `QueryRequest`, `Filter`, `TimeRange` describe who asks for what.
- Errors: `UserError` (and its kinds `InvalidInput`, `NotAllowed`, `NotFound`...) are the
  person's to fix and carry a sentence saying how; anything else is ours.
"""

from reportgen.errors import (
    CatalogInvalid,
    ConfigurationError,
    InvalidInput,
    NotAllowed,
    NotFound,
    QueryTimeout,
    QueryTooLarge,
    ReportgenError,
    UserError,
)
from reportgen.settings import Settings, load_settings

__all__ = [
    "CatalogInvalid",
    "ConfigurationError",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "QueryTimeout",
    "QueryTooLarge",
    "ReportgenError",
    "Settings",
    "UserError",
    "load_settings",
]
