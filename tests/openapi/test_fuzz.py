"""schemathesis drives every operation of the combined OpenAPI document against the local stack, through
Appwrite's executions API (tests/support/execution_adapter.py): no 5xx, every answer matches its schema,
its content type and a documented status. The caller is the owner of a fresh tenant (tenant routes run
deep; platform routes answer their documented 403). Bounded: a few examples per operation.
"""

from __future__ import annotations

import json
import os

import openapi_docs
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.actors import create_tenant, platform_admin
from tests.support.execution_adapter import ExecutionAdapter

# Generated examples per operation (plus its explicit example): ~190 executions by default; raise it for a
# deeper run (BIGTECH_FUZZ_EXAMPLES=20 scripts/test tests/openapi/test_fuzz.py).
EXAMPLES = int(os.environ.get("BIGTECH_FUZZ_EXAMPLES", "1"))
SCHEMA = schemathesis.openapi.from_dict(json.loads((openapi_docs.OUT / openapi_docs.COMBINED).read_text()))
# schemathesis' coverage phase adds dozens of boundary cases per operation (5,000+ executions in all):
# over the budget. The examples and the generated cases stay.
SCHEMA.config.phases.coverage.enabled = False
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def adapter(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin)
    execute = {fn["$id"]: list(fn.get("execute") or []) for fn in openapi_docs.functions()}
    adapter = ExecutionAdapter(stack.endpoint, stack.settings.project_id, stack.settings.api_key, owner.jwt,
                               execute, tenant_id)
    yield adapter
    adapter.close()


def test_every_operation_answers_as_documented(adapter):
    """One hypothesis run per operation, driven here rather than with ``SCHEMA.parametrize()``: that makes one
    pytest item per operation, which pytest-xdist (scripts/test) does not collect the same way in every
    worker, so the operations would not all run."""
    failures: list[str] = []
    for result in SCHEMA.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def answers_as_documented(case) -> None:
            case.validate_response(adapter.call(case), checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as error:  # every operation is tried; all failures are listed together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:2000])
    assert failures == [], "\n\n".join(failures)


def test_the_fuzz_reached_the_functions(adapter):
    """Runs after the fuzz (file order): the calls ran the functions, and many of them succeeded, so the
    checks above were not satisfied by Appwrite refusing every execution."""
    outcomes = adapter.outcomes
    print(f"fuzz outcomes: {dict(outcomes)}; Appwrite refused e.g. {adapter.refusals[:2]}")  # shown with -s
    ran = sum(count for (who, _), count in outcomes.items() if who == "function")
    assert outcomes["appwrite", "4xx"] * 10 <= ran, (outcomes, adapter.refusals)
    assert outcomes["function", "2xx"] >= 40, outcomes
    assert outcomes["function", "5xx"] == 0, outcomes
