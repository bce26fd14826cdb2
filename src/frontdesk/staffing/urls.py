from django.urls import path

from . import views

app_name = "staffing"

urlpatterns = [
    path("plan/", views.plan_home, name="home"),
    path("plan/<slug:branch_slug>/", views.plan_page, name="plan"),
    path("plan/<slug:branch_slug>/export.csv", views.plan_export, name="export"),
]
