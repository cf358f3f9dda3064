"""Authentication backend: Django's, with Rapport's administrators holding every admin permission."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from rapport.core.access import access_for


class RapportBackend(ModelBackend):
    """A user with an administrator role may use the Django admin like a superuser.

    Rights in Rapport come from roles (core.access); Django's per-model permissions are not
    used, so without this an administrator made in Settings would see an empty admin.
    """

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if user_obj.is_active and access_for(user_obj).is_admin:
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if user_obj.is_active and access_for(user_obj).is_admin:
            return True
        return super().has_module_perms(user_obj, app_label)
