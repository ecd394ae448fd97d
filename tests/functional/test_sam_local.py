"""`sam local invoke`'s inputs, played by the local runner: the env-vars file that
scripts/sam_env.py writes for the local stack, applied to each function as SAM would apply it
(only the variables the template declares for that function), then every named event in
tests/events/ through its handler against the moto server on loopback.

This proves the file and the events without Docker; `sam local invoke` itself runs the same
handlers from .aws-sam/build/template.yaml (docs/DEPLOY.md)."""

from __future__ import annotations

import importlib
import json

import pytest

from nudge_local.esm import LambdaContext
from nudge_local.stack import load_template, moto_server
from scripts.sam_env import EVENT_FUNCTIONS, env_from_settings, invocation_event, start_local_stack, write_env
from tests.conftest import EVENTS, ROOT

MODULES = {"GenerateFunction": "generate", "PlanFunction": "plan", "CartFunction": "cart", "EndpointFunction": "endpoint",
           "EventsFunction": "events", "SendFunction": "send", "SweepFunction": "sweep"}


@pytest.fixture(scope="module")
def env_file(tiny_artifacts, tmp_path_factory):
    """The local stack in a moto server, and the env-vars file written for it."""
    with moto_server() as endpoint:
        local = start_local_stack(endpoint, artifacts_dir=tiny_artifacts)
        path = write_env(env_from_settings(local.values, template=load_template(ROOT / "template.yaml")),
                         tmp_path_factory.mktemp("sam") / "env.json")
        yield path


def test_every_named_event_has_a_function():
    names = {p.stem for p in EVENTS.glob("*.json")}
    assert names == set(EVENT_FUNCTIONS)
    declared = set(load_template(ROOT / "template.yaml")["Resources"])
    assert {function for function, _ in EVENT_FUNCTIONS.values()} <= declared


@pytest.mark.parametrize("name", sorted(EVENT_FUNCTIONS))
def test_named_event_runs_through_its_handler_with_the_env_file(name, env_file, monkeypatch):
    # GIVEN the env-vars file's section for the event's function, applied as SAM applies it
    function, event = invocation_event(name)
    section = json.loads(env_file.read_text())[function]
    assert section["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    for variable, value in section.items():
        monkeypatch.setenv(variable, value)
    for variable in ("NUDGE_PSEUDONYM_KEY", "NUDGE_LINK_KEY"):
        monkeypatch.delenv(variable, raising=False)  # as in the SAM container: the keys come from the local secret
    module = importlib.import_module(f"{MODULES[function]}.app")
    module._service = None  # a cold start with this environment
    try:
        # WHEN the handler gets the event, as `sam local invoke <function> -e <event>` would give it
        response = module.handler(event, LambdaContext(function_name=f"sam-local-{function}"))
    finally:
        module._service = None
    # THEN it succeeds: no failed record in a batch, no error status from the link endpoint
    if isinstance(response, dict) and "batchItemFailures" in response:
        assert response["batchItemFailures"] == []
    elif function == "EndpointFunction":
        assert response["statusCode"] < 400, response
    elif function == "PlanFunction":
        assert response["enqueued"] >= 1
