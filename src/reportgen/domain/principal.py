"""Who is asking: a signed-in user with roles and attributes that row policies refer to."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator


class Role(StrEnum):
    """What a user may do. Roles are independent grants, not a ladder: datasets list them."""

    VIEWER = "viewer"
    AUTHOR = "author"
    ADMIN = "admin"


Username = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{1,62}$", strip_whitespace=True)
]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


def _attribute_values_as_tuples(value: object) -> object:
    """Accept ``{"region": "EMEA"}`` as well as ``{"region": ["EMEA", "APAC"]}``."""
    if isinstance(value, dict):
        return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in value.items()}
    return value


class Principal(BaseModel):
    """The identity every governed call is made for. Immutable once built."""

    model_config = ConfigDict(frozen=True)

    username: Username
    display_name: str = ""
    email: str = ""
    roles: frozenset[Role] = Field(default_factory=frozenset)
    # Each attribute holds one or more values: a user may cover several regions.
    attributes: dict[AttributeName, tuple[str, ...]] = Field(default_factory=dict)

    _as_tuples = field_validator("attributes", mode="before")(_attribute_values_as_tuples)

    def has_any_role(self, roles: frozenset[Role] | set[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


class User(BaseModel):
    """A stored account, as the store hands it to services (the password hash stays behind)."""

    model_config = ConfigDict(frozen=True)

    username: Username
    display_name: str
    email: str = ""
    roles: frozenset[Role]
    attributes: dict[AttributeName, tuple[str, ...]] = Field(default_factory=dict)
    disabled: bool = False

    _as_tuples = field_validator("attributes", mode="before")(_attribute_values_as_tuples)

    def principal(self) -> Principal:
        return Principal(
            username=self.username,
            display_name=self.display_name,
            email=self.email,
            roles=self.roles,
            attributes=self.attributes,
        )
