"""URLconf for Twilio status callbacks.

Mount it where ``STATUS_CALLBACK_URL`` points::

    path("sms/twilio/", include("pymess_twilio.urls"))

The view sits at the include's root and takes no URL parameters.
"""

from django.urls import path

from pymess_twilio.views import status_callback

app_name = "pymess_twilio"

urlpatterns = [path("", status_callback, name="status_callback")]
