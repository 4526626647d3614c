"""The REST edge's plumbing, no domain in it: one exception handler, error schema, pagination.

Every refusal leaves the API as `{"code", "message"}` (plus `"fields"` for invalid input),
whether a service raised a `DomainError` or DRF refused the request itself.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError

# DRF's own refusals: the code each one answers with.
_DRF_CODES: list[tuple[type[exceptions.APIException], str, int]] = [
    (exceptions.ValidationError, "invalid", 400),
    (exceptions.ParseError, "malformed_request", 400),
    (exceptions.NotAuthenticated, "not_authenticated", 401),
    (exceptions.AuthenticationFailed, "authentication_failed", 401),
    (exceptions.PermissionDenied, "permission_denied", 403),
    (exceptions.NotFound, "not_found", 404),
    (exceptions.MethodNotAllowed, "method_not_allowed", 405),
    (exceptions.NotAcceptable, "not_acceptable", 406),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", 415),
    (exceptions.Throttled, "throttled", 429),
]


def _first_message(detail) -> str:
    """The first human message in DRF's nested error detail, to head the response."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: refusals become `{"code", "message"}`."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500
    headers = {}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # Token clients need the challenge; with it, DRF's 403 fallback becomes a proper 401.
        headers["WWW-Authenticate"] = 'Token realm="api"'
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code, status_code = next(
        ((name, st) for kind, name, st in _DRF_CODES if isinstance(exc, kind)),
        ("error", exc.status_code),
    )
    body = {"code": code, "message": _first_message(exc.detail)}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["fields"] = detail
    return Response(body, status=status_code, headers=headers)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. call_not_open.")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        required=False, help_text="Invalid input only: the messages for each field."
    )


ERROR_STATUSES = ("400", "401", "403", "404", "409")


class MultitudeAutoSchema(AutoSchema):
    """Documents the shared error body on every operation, so clients can rely on it."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in ERROR_STATUSES:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorSerializer, code, ["application/json"], direction
                )
        return responses


class Pagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


class SequenceCursorPagination(CursorPagination):
    """Newest first; stable under inserts, so a client can walk the whole history."""

    ordering = "-sequence"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


def paginated(view: APIView, request, queryset, serializer_class, paginator_class=Pagination):
    """Render one page of `queryset` with `serializer_class` in the paginator's envelope."""
    paginator = paginator_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


def created(serializer_class, instance, request) -> Response:
    data = serializer_class(instance, context={"request": request}).data
    return Response(data, status=status.HTTP_201_CREATED)


def ok(serializer_class, instance, request) -> Response:
    return Response(serializer_class(instance, context={"request": request}).data)


def parse(serializer_class, request, *, partial: bool = False) -> dict:
    """Validate the request body with a small input serializer (400 with fields on failure)."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def parse_query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Endpoint(GenericAPIView):
    # One URL of the API; lists are paginated with limit/offset. OPTIONS answers 405: DRF's
    # metadata needs one serializer per view, and the schema describes every operation.
    pagination_class = Pagination
    metadata_class = None

    def page(self, queryset, serializer_class, *, per_page=None, **context) -> Response:
        """One page of `queryset`; `per_page(rows)` adds context read for the page's rows
        alone (for example their tallies, in one query)."""
        rows = self.paginate_queryset(queryset)
        context["request"] = self.request
        if per_page is not None:
            context.update(per_page(rows))
        return self.get_paginated_response(serializer_class(rows, many=True, context=context).data)


class Export(Endpoint):
    """A file download. Refusals are still JSON, whatever the client said it accepts."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


def file_schema(media_type: str, summary: str, operation_id: str, **extra):
    return extend_schema(
        operation_id=operation_id,
        tags=["exports"],
        summary=summary,
        responses={
            (200, media_type): OpenApiTypes.OBJECT
            if media_type == "application/json"
            else OpenApiTypes.STR
        },
        **extra,
    )
