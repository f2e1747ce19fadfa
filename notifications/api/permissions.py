"""API permissions: Django's model permissions, so admin groups govern the API."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import DjangoModelPermissions
from rest_framework.request import Request


class ModelPermissions(DjangoModelPermissions):
    """Model permissions with `view_*` required for reads.

    A view may name the permissions of its extra actions in
    `action_permissions` ({action: (requirement, ...)}); those replace the
    ones the HTTP method implies, since POST to `cancel/` changes a
    notification rather than adding one. Every requirement must be met; a
    requirement is a permission, or a tuple of permissions any one of which
    will do.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        required = getattr(view, "action_permissions", {}).get(
            getattr(view, "action", None)
        )
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return all(
            any(user.has_perm(perm) for perm in requirement)
            if isinstance(requirement, tuple)
            else user.has_perm(requirement)
            for requirement in required
        )
