"""Who may use a dataset, which of its rows they see and which columns they read masked.

`plan_access` turns a dataset and a principal into an `AccessPlan`; the SQL compiler applies it
inside the query, so no door into the product can skip it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from reportgen.domain.catalog import Dataset, MaskKind, RowPolicy
from reportgen.domain.principal import Principal
from reportgen.errors import NotAllowed


@dataclass(frozen=True)
class RowLimit:
    """Rows are limited to those whose `column` is one of `values`; no values means no rows."""

    policy: RowPolicy
    values: tuple[str, ...]


@dataclass(frozen=True)
class AccessPlan:
    dataset: str
    row_limits: tuple[RowLimit, ...] = ()
    masks: dict[str, MaskKind] = field(default_factory=dict)

    @property
    def key(self) -> Hashable:
        """A hashable identity: equal plans compile to equal SQL."""
        limits = tuple((limit.policy.name, limit.values) for limit in self.row_limits)
        return (self.dataset, limits, tuple(sorted(self.masks.items())))

    @property
    def sees_no_rows(self) -> bool:
        return any(not limit.values for limit in self.row_limits)

    def row_notes(self) -> list[str]:
        """The row limits, as plain sentences."""
        return [
            f"rows limited to {limit.policy.column} in ({', '.join(limit.values)})"
            if limit.values
            else f"no rows: the account has no '{limit.policy.attribute}' attribute"
            for limit in self.row_limits
        ]

    def describe(self) -> list[str]:
        """Row limits and masks as plain sentences, for lineage and the catalog page."""
        masks = [f"{name} masked ({kind.value})" for name, kind in sorted(self.masks.items())]
        return [*self.row_notes(), *masks]


def visible_datasets(datasets: list[Dataset], principal: Principal) -> list[Dataset]:
    return [d for d in datasets if d.allows(principal)]


def plan_access(dataset: Dataset, principal: Principal) -> AccessPlan:
    """The limits `principal` works under on `dataset`; NotAllowed when they may not use it."""
    if not dataset.allows(principal):
        roles = ", ".join(sorted(r.value for r in dataset.allowed_roles))
        raise NotAllowed(
            f"you are not allowed to use the dataset '{dataset.name}'; it is open to the roles: "
            f"{roles}. Ask an admin or the dataset's steward ({dataset.steward}) for access."
        )
    limits = tuple(
        RowLimit(policy, principal.attributes.get(policy.attribute, ()))
        for policy in dataset.row_policies
        if not principal.has_any_role(policy.exempt_roles)
    )
    masks = {
        column.name: kind
        for column in dataset.columns
        if (kind := column.masked_for(principal)) is not None
    }
    return AccessPlan(dataset=dataset.name, row_limits=limits, masks=masks)
