"""A tiny Lambda handler for checking the Runtime API double with the official `awslambdaric`."""

import os

if os.environ.get("RIC_HANDLER_FAIL_INIT"):
    raise RuntimeError("init failed on purpose")


def handler(event, context):
    op = event.get("op")
    if op == "fail":
        raise ValueError("handler failed on purpose: " + str(event.get("why")))
    if op == "big":
        return {"data": "z" * (7 * 1024 * 1024)}
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
