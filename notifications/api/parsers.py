"""The JSON parser, hardened against documents nested too deep."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, answering 400 where Python's parser would recurse away.

    A few thousand nested brackets make `json.loads` raise RecursionError,
    which is not a ValueError, so DRF would let it through as a 500.
    """

    def parse(self, stream: Any, media_type: Any = None, context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, context)
        except RecursionError:
            raise ParseError(
                "JSON parse error: the document is nested too deep."
            ) from None
