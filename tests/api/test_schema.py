"""The OpenAPI document is valid and complete, and /api/schema/ serves it."""

import io

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from tests.api.openapi import schema_operations
from tests.factories import UserFactory


def test_generated_schema_validates_against_the_openapi_specification(schema):
    validate_schema(schema)
    assert schema["info"]["title"] == "Stegvis API"
    assert {"cookieAuth", "tokenAuth"} <= set(schema["components"]["securitySchemes"])


def test_every_operation_has_a_unique_id_a_success_response_and_documented_errors(schema):
    operation_ids = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            codes = set(operation["responses"])
            assert codes & {"200", "201", "204"}, (method, path)
            assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
    assert len(operation_ids) == len(set(operation_ids))


def test_schema_command_reports_no_errors_or_warnings(tmp_path):
    """As CI runs it: manage.py spectacular --validate --fail-on-warn."""
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"), stderr=io.StringIO()
    )
    assert (tmp_path / "schema.yaml").stat().st_size > 0


@pytest.mark.django_db
def test_schema_endpoint_serves_the_same_operations(client, schema):
    client.force_login(UserFactory())
    response = client.get(reverse("api_schema"))
    assert response.status_code == 200
    assert schema_operations(yaml.safe_load(response.content)) == schema_operations(schema)
