"""Journey: building a filtered report, previewing it and downloading its PDF
(features/build_report.feature; the builder's steps are in `builder_steps`)."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

pytestmark = pytest.mark.browser

scenarios("features/build_report.feature")
