"""The client's models mirror the API's schemas without importing them: every field the API's OpenAPI schema
gives a response or takes in a request has its typed field in the client's model, and the enumerations agree."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

import selfdebug_client.models as client
from api import APISettings, create_app

SCHEMAS: dict[str, Any] = create_app(APISettings(api_keys={"k": "0123456789abcdef"})).openapi()["components"]["schemas"]
MIRRORS: list[tuple[str, type[BaseModel]]] = [
    ("JobView", client.Job), ("JobSummary", client.JobSummary), ("JobPage", client.Page), ("JobLinks", client.JobLinks),
    ("JobUsage", client.JobUsage), ("JobTiming", client.JobTiming), ("JobVerdict", client.JobVerdict),
    ("BatchView", client.Batch), ("BatchSummary", client.BatchSummary), ("BatchPage", client.Page),
    ("BatchLinks", client.BatchLinks), ("StrategyReport", client.Report), ("JudgedCounts", client.JudgedCounts),
    ("ProblemIn", client.Problem), ("IOCase", client.IOCase), ("DebugOptions", client.Options),
    ("StdioCaseIn", client.StdioCase), ("ExecutionResult", client.ExecutionResult),
    ("TestOutcome", client.TestOutcome), ("ExceptionInfo", client.ExceptionInfo), ("Readiness", client.Readiness),
    ("ReadinessCheck", client.ReadinessCheck), ("DebugRecord", client.Record),
]
ENUMS = [("JobStatus", client.JobStatus), ("BatchStatus", client.BatchStatus), ("Strategy", client.Strategy),
         ("Feedback", client.Feedback), ("ProblemKind", client.ProblemKind)]


def _schema(name: str) -> dict[str, Any]:
    found = SCHEMAS.get(name) or SCHEMAS.get(f"{name}-Output") or SCHEMAS.get(f"{name}-Input")
    assert found is not None, f"the API's schema has no {name}: {sorted(SCHEMAS)}"
    return found


@pytest.mark.parametrize("name, model", MIRRORS, ids=[name for name, _ in MIRRORS])
def test_every_field_of_the_api_has_its_typed_field_in_the_client(name: str, model: type[BaseModel]) -> None:
    fields = set(_schema(name).get("properties", {}))
    missing = sorted(fields - set(model.model_fields))
    assert not missing, f"selfdebug_client.models.{model.__name__} lacks {missing} of the API's {name}"
    required = set(_schema(name).get("required", []))
    # What the API always sends, the client may require; never more than that.
    too_strict = sorted(f for f, info in model.model_fields.items() if info.is_required() and f not in required)
    assert not too_strict, f"{model.__name__} requires {too_strict}, which the API's {name} may leave out"


@pytest.mark.parametrize("name, enum", ENUMS, ids=[name for name, _ in ENUMS])
def test_the_enumerations_agree(name: str, enum: type[Any]) -> None:
    assert sorted(_schema(name)["enum"]) == sorted(member.value for member in enum)
