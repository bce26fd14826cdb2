from django.urls import path

from . import views

app_name = "queueing"

urlpatterns = [
    path("", views.home, name="home"),
    path("kiosk/<slug:branch_slug>/", views.kiosk, name="kiosk"),
    path("kiosk/<slug:branch_slug>/ticket/<uuid:public_id>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("join/<slug:branch_slug>/", views.join, name="join"),
    path("join/<slug:branch_slug>/qr.svg", views.join_qr, name="join_qr"),
    path("t/<uuid:public_id>/", views.ticket, name="ticket"),
    path("t/<uuid:public_id>/leave/", views.ticket_leave, name="ticket_leave"),
    path("t/<uuid:public_id>/qr.svg", views.ticket_qr, name="ticket_qr"),
    path("console/", views.console_home, name="console_home"),
    path("console/close/", views.console_close, name="console_close"),
    path("console/<int:counter_id>/", views.console, name="console"),
    path("console/<int:counter_id>/open/", views.console_open, name="console_open"),
    path("console/<int:counter_id>/call-next/", views.console_call_next, name="console_call_next"),
    path("console/<int:counter_id>/check-in/", views.console_check_in, name="console_check_in"),
    path(
        "console/<int:counter_id>/visits/<int:visit_id>/<slug:action>/",
        views.console_visit_action,
        name="console_visit_action",
    ),
    path("manage/", views.manager_home, name="manager_home"),
    path("manage/<slug:branch_slug>/", views.manager_live, name="manager_live"),
]
