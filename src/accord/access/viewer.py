"""Who is asking: a member user, an organisation acted for by the operator, the public, or a partner hub."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Roles from least to most powerful.
ROLES: tuple[str, ...] = ("reader", "analyst", "org-admin", "admin")


def role_rank(role: str) -> int:
    return ROLES.index(role)


@dataclass(frozen=True)
class Viewer:
    """The subject of every read and write.

    ``org_pk`` decides what is visible. ``operator`` marks the hub operator at the CLI: with an
    organisation it acts on that organisation's behalf (and sees exactly what its members see);
    without one it sees the whole hub. ``public`` is an anonymous reader. ``partner`` is a federated
    hub (a user of an organisation of kind ``partner-hub``): ``org_pk`` then names the organisation
    standing for it (so a federation collection never hands it back what it fed in), but it sees only
    what is shared with the federation or the public, never its organisation's own grants, a group's
    or the community's, and it writes nothing.
    """

    org_pk: int | None = None
    org_name: str | None = None
    org_identity: str | None = None
    user_pk: int | None = None
    email: str | None = None
    role: str | None = None
    group_pks: frozenset[int] = field(default_factory=frozenset)
    operator: bool = False
    public: bool = False
    partner: bool = False
    source: str = "cli"

    @property
    def label(self) -> str:
        """How the audit log names this actor."""
        if self.email:
            return self.email
        if self.operator:
            return f"operator (as {self.org_name})" if self.org_name else "operator"
        if self.partner:
            return f"partner hub {self.org_name}" if self.org_name else "partner hub"
        return "anonymous"

    def has_role(self, role: str) -> bool:
        """True when this actor holds ``role`` or a stronger one (the operator holds all)."""
        if self.operator:
            return True
        return self.role is not None and role_rank(self.role) >= role_rank(role)

    @property
    def is_hub_admin(self) -> bool:
        return self.operator or self.role == "admin"
