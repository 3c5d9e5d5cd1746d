from django.apps import AppConfig


class CasebankConfig(AppConfig):
    name = "casebank"
    verbose_name = "Case bank"
