"""The fake Warehouse's own publisher records, keyed by Warehouse's form field names.

The fake is the oracle the client is tested against, so it keeps its own description of a
publisher instead of borrowing the client's classes: a change in the client must not move the
oracle with it. A record is a kind and the values of that kind's form fields, in the order the
form lists them (docs/protocol/registration.md#field-sets). What the fake looked up while
registering (GitHub's numeric owner id, ActiveState's actor id) is not a form field: it sits
on the stored row (``PublisherRecord.external_id``), as in Warehouse's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

GITLAB_ISSUER = "https://gitlab.com"

# Each kind's form fields, in the order of its form (docs/protocol/registration.md#field-sets).
FIELD_NAMES: Mapping[str, tuple[str, ...]] = {
    "github": ("owner", "repository", "workflow_filename", "environment"),
    "gitlab": ("namespace", "project", "workflow_filepath", "environment", "issuer_url"),
    "google": ("email", "sub"),
    "activestate": ("organization", "project", "actor"),
}
# Fields a form may leave blank, and what Warehouse stores then.
_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "github": {"environment": ""},
    "gitlab": {"environment": "", "issuer_url": GITLAB_ISSUER},
    "google": {"sub": ""},
    "activestate": {},
}


@dataclass(frozen=True)
class FakePublisher:
    """One publisher configuration as the fake stores it: ``kind`` and ``(field, value)`` pairs.

    Build one with ``FakePublisher.of(kind, **fields)`` or the per-kind shortcuts; read a field
    with ``publisher["environment"]``. Two records are equal when kind and every value are equal,
    exactly (Warehouse's rows compare column by column).
    """

    kind: str
    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        names = FIELD_NAMES.get(self.kind)
        if names is None:
            raise ValueError(f"unknown publisher kind {self.kind!r} (one of {', '.join(FIELD_NAMES)})")
        if tuple(name for name, _ in self.fields) != names:
            raise ValueError(f"a {self.kind} publisher has the fields {names}, got {self.fields}")
        if not all(isinstance(value, str) for _, value in self.fields):
            raise TypeError(f"publisher field values are text: {self.fields}")

    @classmethod
    def of(cls, kind: str, **values: str) -> FakePublisher:
        """A record from field values; optional fields default as Warehouse stores a blank one."""
        names = FIELD_NAMES.get(kind)
        if names is None:
            raise ValueError(f"unknown publisher kind {kind!r} (one of {', '.join(FIELD_NAMES)})")
        unknown = set(values) - set(names)
        values = {**_DEFAULTS[kind], **values}
        missing = [name for name in names if name not in values]
        if unknown or missing:
            raise TypeError(f"{kind} publisher: unknown fields {sorted(unknown)}, missing {missing}")
        return cls(kind, tuple((name, values[name]) for name in names))

    @classmethod
    def github(cls, owner: str, repository: str, workflow_filename: str, environment: str = "") -> FakePublisher:
        return cls.of("github", owner=owner, repository=repository, workflow_filename=workflow_filename,
                      environment=environment)

    @classmethod
    def gitlab(
        cls,
        namespace: str,
        project: str,
        workflow_filepath: str,
        environment: str = "",
        issuer_url: str = GITLAB_ISSUER,
    ) -> FakePublisher:
        return cls.of("gitlab", namespace=namespace, project=project, workflow_filepath=workflow_filepath,
                      environment=environment, issuer_url=issuer_url)

    @classmethod
    def google(cls, email: str, sub: str = "") -> FakePublisher:
        return cls.of("google", email=email, sub=sub)

    @classmethod
    def activestate(cls, organization: str, project: str, actor: str) -> FakePublisher:
        return cls.of("activestate", organization=organization, project=project, actor=actor)

    def __getitem__(self, name: str) -> str:
        for field_name, value in self.fields:
            if field_name == name:
                return value
        raise KeyError(f"a {self.kind} publisher has no field {name!r}")

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)
