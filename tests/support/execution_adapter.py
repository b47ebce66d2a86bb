"""An OpenAPI call → one ``createExecution`` on the stack → an HTTP response schemathesis can check.

The combined document's paths are ``/<function id><execution path>``; each operation's
``x-appwrite-execution`` names the function. The adapter sends the case's method, path (with its query
string), headers and JSON body through Appwrite's executions API, as a frontend would, and turns the
``Execution`` (``responseStatusCode``, ``responseHeaders``, ``responseBody``) back into an
``httpx.Response`` for ``case.validate_response``. Functions no user may execute (``execute: []``) are
called with the stack's API key, as CORE calls them.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import httpx


class ExecutionAdapter:
    def __init__(self, endpoint: str, project_id: str, api_key: str, jwt: str, execute: dict[str, list[str]],
                 tenant_id: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.project_id = project_id
        self.api_key = api_key
        self.jwt = jwt
        self.execute = execute
        self.tenant_id = tenant_id
        self.http = httpx.Client(timeout=60)
        # (who answered: "function" or "appwrite", status class "2xx"…) → count, to prove the fuzz got in
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.refusals: list[str] = []  # a sample of what Appwrite refused before any function ran

    def close(self) -> None:
        self.http.close()

    def _credentials(self, function_id: str) -> dict[str, str]:
        roles = self.execute.get(function_id) or []
        if roles:
            return {"x-appwrite-jwt": self.jwt}
        return {"x-appwrite-key": self.api_key}

    def call(self, case: Any) -> httpx.Response:
        recipe = case.operation.definition.raw["x-appwrite-execution"]
        function_id = recipe["functionId"]
        prefix = "/" + function_id
        path = case.formatted_path[len(prefix):] or "/"
        query = {k: v for k, v in (case.query or {}).items() if v is not None}
        if query:
            path += "?" + urlencode(query, doseq=True)
        headers = {str(k).lower(): str(v) for k, v in (case.headers or {}).items()}
        if self.tenant_id and "x-tenant-id" in recipe["headers"]:
            headers.setdefault("x-tenant-id", self.tenant_id)
        body = ""
        if recipe["body"] == "json" and case.body is not None and not _is_unset(case.body):
            body = json.dumps(case.body, default=_text)
            headers.setdefault("content-type", "application/json")
        payload = {"body": body, "async": False, "path": path, "method": case.method.upper(), "headers": headers}
        answer = self.http.post(f"{self.endpoint}/functions/{function_id}/executions", json=payload,
                                headers={"x-appwrite-project": self.project_id, **self._credentials(function_id)})
        request = httpx.Request(case.method.upper(), f"http://{function_id}.functions.local{path}", headers=headers,
                                content=body.encode())
        if answer.status_code != 201:  # Appwrite itself refused the execution: hand its answer on as is
            response = httpx.Response(answer.status_code, headers=answer.headers, content=answer.content,
                                      request=request)
            self.outcomes["appwrite", f"{answer.status_code // 100}xx"] += 1
            if len(self.refusals) < 5:
                self.refusals.append(f"{case.method} {case.formatted_path} → {answer.status_code} {answer.text[:160]}")
        else:
            execution = answer.json()
            response_headers = [(h["name"], h["value"]) for h in execution.get("responseHeaders") or []]
            response = httpx.Response(int(execution["responseStatusCode"]), headers=response_headers,
                                      content=(execution.get("responseBody") or "").encode(), request=request)
            self.outcomes["function", f"{response.status_code // 100}xx"] += 1
        response.elapsed = answer.elapsed
        return response


def _text(value: Any) -> str:
    """JSON for what schemathesis may put in an unconstrained value (bytes, …)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_unset(value: Any) -> bool:
    return type(value).__name__ == "NotSet"
