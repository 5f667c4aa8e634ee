from django.contrib.admin.apps import AdminConfig


class StegvisAdminConfig(AdminConfig):
    """The Django admin, with a site whose entry is decided by participants/access.py."""

    default_site = "participants.admin_site.StegvisAdminSite"
