"""The JSON parser, bounded in size and in nesting."""

from __future__ import annotations

import io
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# Room for a bulk request of 10,000 notifications with generous bodies. DRF
# reads JSON from the stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
# does not apply; without a cap, one request could take any amount of memory.
MAX_BODY_BYTES = 32 * 1024 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = (
        f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
        "send fewer notifications per request."
    )
    default_code = "payload_too_large"


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a size cap, answering 400 to absurd nesting.

    A few thousand nested brackets make `json.loads` raise RecursionError,
    which is not a ValueError, so DRF would let it through as a 500.
    """

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error: the document is nested too deep."
            ) from None
