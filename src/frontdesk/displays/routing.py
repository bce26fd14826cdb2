"""Websocket addresses: one stream per branch, for boards, consoles, manager views and ticket pages."""

from django.urls import path

from .consumers import BranchStreamConsumer

websocket_urlpatterns = [
    path("ws/branches/<slug:branch_slug>/", BranchStreamConsumer.as_asgi()),
]
