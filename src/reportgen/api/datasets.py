"""``/api/v1/datasets``: the governed datasets the caller may use, with what they offer."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from reportgen.api.auth import CurrentPrincipal
from reportgen.api.state import api_state
from reportgen.domain.catalog import Dataset

router = APIRouter(prefix="/datasets", tags=["datasets"])


class DatasetField(BaseModel):
    """A dimension or measure people may ask for."""

    name: str
    label: str
    description: str
    type: str


class DatasetSummary(BaseModel):
    name: str
    title: str
    description: str
    owner: str
    steward: str
    certified: bool
    classification: str
    tags: list[str]
    version: str


class DatasetFreshness(BaseModel):
    latest: date | datetime | None
    age_hours: float | None
    sla_hours: float | None
    within_sla: bool | None
    description: str


class DatasetDetail(DatasetSummary):
    dimensions: list[DatasetField]
    measures: list[DatasetField]
    time_column: str | None
    time_grains: list[str]
    row_limits: list[str]
    masked_columns: list[str]
    freshness: DatasetFreshness


def _summary(dataset: Dataset) -> DatasetSummary:
    return DatasetSummary(
        name=dataset.name,
        title=dataset.title,
        description=dataset.description,
        owner=dataset.owner,
        steward=dataset.steward,
        certified=dataset.certified,
        classification=dataset.classification.value,
        tags=list(dataset.tags),
        version=dataset.version,
    )


@router.get("", operation_id="list_datasets", summary="Datasets you may use")
def list_datasets(
    request: Request,
    principal: CurrentPrincipal,
    search: str = Query(default="", max_length=200, description="Text in name, title or tags."),
) -> list[DatasetSummary]:
    catalog = api_state(request).services.catalog
    return [_summary(d) for d in catalog.datasets(principal, search)]


@router.get("/{name}", operation_id="get_dataset", summary="One dataset, as you may use it")
def get_dataset(request: Request, principal: CurrentPrincipal, name: str) -> DatasetDetail:
    catalog = api_state(request).services.catalog
    dataset = catalog.dataset(principal, name)
    access = catalog.access(principal, name)
    freshness = catalog.freshness(principal, name)
    return DatasetDetail(
        **_summary(dataset).model_dump(),
        dimensions=[
            DatasetField(
                name=d.name,
                label=d.label,
                description=d.description,
                type=dataset.dimension_type(d).value,
            )
            for d in dataset.dimensions
        ],
        measures=[
            DatasetField(name=m.name, label=m.label, description=m.description, type=m.format.value)
            for m in dataset.measures
            if m.allows(principal)
        ],
        time_column=dataset.time_dimension.column if dataset.time_dimension else None,
        time_grains=[g.value for g in dataset.time_dimension.grains]
        if dataset.time_dimension
        else [],
        row_limits=list(access.rows),
        masked_columns=list(access.masked_columns),
        freshness=DatasetFreshness(
            latest=freshness.latest,
            age_hours=freshness.age_hours,
            sla_hours=freshness.sla_hours,
            within_sla=freshness.within_sla,
            description=freshness.describe(),
        ),
    )
