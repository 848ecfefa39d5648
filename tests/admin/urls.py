"""The test URLconf plus an admin page for Customer, so related-object links have a target."""

from django.contrib import admin
from django.urls import path

from tests.testapp.models import Customer

# Order stays unregistered: a related object without an admin page is shown as plain text.
if not admin.site.is_registered(Customer):
    admin.site.register(Customer)

urlpatterns = [path("admin/", admin.site.urls)]
