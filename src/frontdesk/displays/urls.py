from django.urls import path

from . import views

app_name = "displays"

urlpatterns = [
    path("display/<slug:branch_slug>/", views.board, name="board"),
]
