from django.urls import include, path

urlpatterns = [path("hooks/twilio/", include("pymess_twilio.urls"))]
