from django.db import models

from pymess.models.sms import AbstractSMSTemplate


class BrandedTemplate(AbstractSMSTemplate):
    brand = models.CharField(max_length=50, blank=True)
