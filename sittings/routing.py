from django.urls import path

from sittings.consumers import AssemblyConsumer

websocket_urlpatterns = [
    path("ws/assemblies/<slug:slug>/", AssemblyConsumer.as_asgi()),
]
