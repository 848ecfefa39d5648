from django.apps import AppConfig


class CustomTemplateConfig(AppConfig):
    name = "tests.custom_template"
    label = "custom_template"
