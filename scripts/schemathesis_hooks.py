"""Steward's own schemathesis check: every error the API answers is problem+json.

Loaded by scripts/api-fuzz.sh through SCHEMATHESIS_HOOKS. Schemathesis' built-in
`not_a_server_error` check covers "no 5xx"; this one covers the shape of the 4xx
answers (RFC 9457): the media type, and a body naming the status, a title and a detail.
"""

import json

import schemathesis


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    if response.status_code < 400:
        return None
    media_type = response.headers.get("content-type", [""])
    media_type = media_type[0] if isinstance(media_type, list) else media_type
    if not media_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as {media_type!r}, not application/problem+json"
        )
    try:
        problem = json.loads(response.text)
    except ValueError as error:
        raise AssertionError(f"the problem body is not JSON: {error}") from error
    for field in ("status", "title", "detail"):
        if field not in problem:
            raise AssertionError(f"the problem lacks '{field}': {problem}")
    if problem["status"] != response.status_code:
        raise AssertionError(
            f"the problem says {problem['status']}, the response {response.status_code}"
        )
    return None
