"""The API's request parser (its own module: DRF imports it while reading its settings)."""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from core import jsonparse


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a bounded nesting depth: `[[[[…` is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return jsonparse.loads(stream.read().decode(encoding))
        except ValueError as error:  # UnicodeDecodeError, TooDeep and JSONDecodeError alike
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
