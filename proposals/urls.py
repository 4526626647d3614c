from django.urls import path, re_path

from proposals import proxy_views, views

app_name = "proposals"
P = "a/<slug:slug>/p/<int:proposal_id>/"
urlpatterns = [
    path("a/<slug:slug>/propose/", views.new_proposal, name="new"),
    path("a/<slug:slug>/roles/", views.roles, name="roles"),
    path("a/<slug:slug>/proxies/", proxy_views.proxies, name="proxies"),
    path("a/<slug:slug>/proxies/<int:proxy_id>/revoke/", proxy_views.revoke, name="revoke_proxy"),
    path(P + "proxy-position/", proxy_views.take_proxy_position, name="proxy_position"),
    path(P, views.proposal_detail, name="detail"),
    path(P + "position/", views.take_position, name="position"),
    re_path(
        r"^a/(?P<slug>[-\w]+)/p/(?P<proposal_id>\d+)/(?P<kind>question|concern)/$",
        views.add_comment,
        name="comment",
    ),
    path(P + "comments/<int:comment_id>/answer/", views.answer_question, name="answer"),
    path(P + "amend/", views.propose_amendment, name="amend"),
    re_path(
        r"^a/(?P<slug>[-\w]+)/p/(?P<proposal_id>\d+)/amendments/(?P<comment_id>\d+)/"
        r"(?P<verdict>accept|decline)/$",
        views.resolve_amendment,
        name="resolve_amendment",
    ),
    path(P + "temperature/", views.give_reading, name="reading"),
    path(P + "diff/", views.revision_diff, name="diff"),
]
