from django.contrib import admin
from django.http import HttpRequest

from participants import access


class StegvisAdminSite(admin.AdminSite):
    """The Django admin for superusers and förbund-wide admins; each ModelAdmin scopes the rows."""

    site_header = "Stegvis administration"
    site_title = "Stegvis"
    index_title = "Administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return access.can_use_admin_site(request.user)
