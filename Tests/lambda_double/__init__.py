"""Test double of the AWS Lambda Runtime API with RIE-style and Function URL invoke fronts."""

from .runtime_api import (  # noqa: F401
    MAX_BUFFERED,
    STREAMING_CONTENT_TYPE,
    Invocation,
    RuntimeAPIDouble,
    function_url_event,
)
