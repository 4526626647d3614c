"""`GET /api/v1/`: where a program (or a curious person) starts — the schema, the docs page,
the resources and the exports, as links.

Resource URLs are URI templates (RFC 6570, level 1): `{slug}` is an assembly's address and
`{proposal_id}`, `{meeting_id}`, `{decision_id}` are numbers, as in the OpenAPI schema.
"""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# Stand-ins for the path arguments while reversing; each is replaced by its {placeholder}.
_SENTINELS = {
    "slug": "zz-slug-zz",
    "proposal_id": 91919191,
    "meeting_id": 92929292,
    "decision_id": 93939393,
}

# (name, URL name, arguments, what it is)
RESOURCES = [
    ("assemblies", "api:assemblies", (), "Public assemblies and your own; POST creates one."),
    ("assembly", "api:assembly", ("slug",), "One assembly, its decision rule in words."),
    ("members", "api:members", ("slug",), "An assembly's members and their roles."),
    ("meetings", "api:meetings", ("slug",), "An assembly's sittings with their agendas."),
    (
        "notifications",
        "api:notification-preferences",
        ("slug",),
        "Your email settings for an assembly; PATCH changes them.",
    ),
    ("meeting", "api:meeting", ("meeting_id",), "One sitting."),
    ("proposals", "api:proposals", ("slug",), "An assembly's proposals with their live tally."),
    ("proposal", "api:proposal", ("proposal_id",), "A proposal: text, phase, tally, decision."),
    ("revisions", "api:revisions", ("proposal_id",), "Every revision of a proposal's text."),
    ("comments", "api:comments", ("proposal_id",), "Questions, answers, concerns, amendments."),
    ("positions", "api:positions", ("proposal_id",), "Current positions; POST takes one."),
    (
        "proxies",
        "api:proxies",
        ("slug",),
        "An assembly's proxies; POST gives yours for a sitting or a proposal.",
    ),
    ("decisions", "api:decisions", ("slug",), "An assembly's decisions, newest first."),
    ("decision", "api:decision", ("decision_id",), "A decision with its full record and digest."),
    ("tree-head", "api:tree-head", ("slug",), "The newest signed tree head of the decisions."),
    (
        "inclusion-proof",
        "api:inclusion-proof",
        ("slug",),
        "?sequence=&tree_size=: a decision's leaf and audit path (RFC 9162).",
    ),
    (
        "consistency-proof",
        "api:consistency-proof",
        ("slug",),
        "?first=&second=: proof that a later tree extends an earlier one (RFC 9162).",
    ),
    ("public-key", "api:public-key", (), "The Ed25519 key that signs the tree heads."),
]

# (name, URL name, arguments, media type, what it is)
EXPORTS = [
    (
        "decisions.csv",
        "api:decisions-csv",
        ("slug",),
        "text/csv",
        "One row per decision: outcome, counts, rule, date and digest.",
    ),
    (
        "positions.csv",
        "api:positions-csv",
        ("slug",),
        "text/csv",
        "Every position on decided proposals, with names and reasons.",
    ),
    (
        "history.json",
        "api:history-json",
        ("slug",),
        "application/json",
        "The verifiable history: every decision's record, chained by digests.",
    ),
    (
        "popolo.json",
        "api:popolo-json",
        ("slug",),
        "application/json",
        "Popolo: the assembly with its motions, vote events and votes.",
    ),
    (
        "receipt.json",
        "api:decision-receipt",
        ("decision_id",),
        "application/json",
        "Your receipt for your position in a decision: leaf, inclusion proof, signed head.",
    ),
    (
        "minutes.md",
        "api:meeting-minutes",
        ("meeting_id",),
        "text/markdown",
        "The minutes of one sitting.",
    ),
]

VERIFY_COMMAND = "python3 tools/verify_history.py history.json"


def url_template(url_name: str, arguments: tuple[str, ...]) -> str:
    """The path of `url_name` with `{argument}` where each argument goes."""
    path = reverse(url_name, kwargs={name: _SENTINELS[name] for name in arguments})
    for name in arguments:
        path = path.replace(str(_SENTINELS[name]), "{" + name + "}")
    return path


class LinkSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField(help_text="Absolute; a URI template when `templated`.")
    templated = serializers.BooleanField(help_text="The URL has {placeholders} to fill in.")
    description = serializers.CharField()


class ExportLinkSerializer(LinkSerializer):
    media_type = serializers.CharField()


class DocumentationSerializer(serializers.Serializer):
    schema = serializers.CharField(help_text="OpenAPI 3 schema, YAML.")
    schema_json = serializers.CharField(help_text="The same schema as JSON.")
    docs = serializers.CharField(help_text="Interactive documentation (Swagger UI).")
    guide = serializers.CharField(help_text="Where the written guide is.")


class VerificationSerializer(serializers.Serializer):
    command = serializers.CharField()
    guide = serializers.CharField()


class ApiIndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    authentication = serializers.CharField()
    documentation = DocumentationSerializer()
    resources = LinkSerializer(many=True)
    exports = ExportLinkSerializer(many=True)
    verification = VerificationSerializer(help_text="How to check a history.json offline.")


class ApiIndex(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["index"],
        operation_id="api_index",
        summary="The API's index: schema, docs, resources and exports, as links",
        responses=ApiIndexSerializer,
    )
    def get(self, request):
        origin = request.build_absolute_uri("/").removesuffix("/")

        def absolute(path: str) -> str:
            return origin + path  # as is: build_absolute_uri would escape the {braces}

        def link(name, url_name, arguments, description, **extra):
            return {
                "name": name,
                "url": absolute(url_template(url_name, arguments)),
                "templated": bool(arguments),
                "description": description,
                **extra,
            }

        schema = reverse("api:schema")
        body = {
            "name": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "authentication": (
                "A session cookie, or the header `Authorization: Token <key>` (a personal "
                "token, made on /account/). Public and unlisted assemblies are readable "
                "without either."
            ),
            "documentation": {
                "schema": absolute(schema),
                "schema_json": absolute(schema + "?format=json"),
                "docs": absolute(reverse("api:docs")),
                "guide": "docs/api.md in Multitude's source",
            },
            "resources": [link(*resource) for resource in RESOURCES],
            "exports": [
                link(name, url_name, arguments, description, media_type=media_type)
                for name, url_name, arguments, media_type, description in EXPORTS
            ],
            "verification": {
                "command": VERIFY_COMMAND,
                "guide": "docs/history-verification.md in Multitude's source",
            },
        }
        return Response(ApiIndexSerializer(body).data)
