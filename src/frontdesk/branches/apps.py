from django.apps import AppConfig


class BranchesConfig(AppConfig):
    name = "frontdesk.branches"
    label = "branches"
    verbose_name = "Branches and services"
