"""The env-vars file for `sam local invoke` from a deployed stack: GIVEN a stack's outputs and
parameters (CloudFormation in moto) WHEN the file is made THEN each function gets exactly the
variables the template declares for it, resources from outputs, parameters from the stack."""

from __future__ import annotations

import json

import boto3
import pytest

from nudge_local.stack import load_template
from scripts.sam_env import OUTPUT_FOR_VARIABLE, SamEnvError, declared_variables, env_from_settings, env_from_stack
from tests.conftest import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
OUTPUTS = {
    "OutputBucketName": "nudge-output-123", "ProfileTableName": "nudge-ProfileTable-ABC",
    "JobsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nudge-JobsQueue-XYZ",
    "TriggersJobsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nudge-TriggersJobsQueue-XYZ",
    "ArtifactsUri": "s3://nudge-output-123/artifacts/", "KeysSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:nudge-keys-AbCdEf",
    "EmailEventsConfigurationSetName": "nudge-EmailEvents", "EndpointUrl": "https://abc.lambda-url.us-east-1.on.aws/",
}


def deployed(cloudformation, *, outputs=OUTPUTS, parameters=None) -> str:
    """A stack in moto with the given outputs and parameter values (a stand-in resource holds them)."""
    parameters = parameters or {"StoreName": "Hearth & Thread", "LinkBaseUrl": ""}
    body = {
        "Parameters": {k: {"Type": "String", "Default": ""} for k in parameters},
        "Resources": {"Holder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    cloudformation.create_stack(StackName="nudge", TemplateBody=json.dumps(body),
                                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    return "nudge"


def test_a_deployed_stack_fills_each_functions_declared_variables(aws):
    cloudformation = boto3.client("cloudformation")
    env = env_from_stack(deployed(cloudformation), template=TEMPLATE, cloudformation=cloudformation)
    generate = env["GenerateFunction"]
    assert generate["NUDGE_OUTPUT_BUCKET"] == OUTPUTS["OutputBucketName"]
    assert generate["NUDGE_PROFILE_TABLE"] == OUTPUTS["ProfileTableName"]
    assert generate["NUDGE_SECRET_ARN"] == OUTPUTS["KeysSecretArn"]  # keys come from the stack's secret
    assert generate["NUDGE_LINK_BASE_URL"] == OUTPUTS["EndpointUrl"]  # no LinkBaseUrl: the Function URL
    assert generate["NUDGE_STORE_NAME"] == "Hearth & Thread"  # a !Ref parameter: the stack's value
    assert generate["NUDGE_MODEL_DIR"] == "/opt/copywriter"  # a literal, as written
    assert generate["AWS_ENDPOINT_URL"] == ""  # the real AWS endpoints
    assert env["PlanFunction"]["NUDGE_JOBS_QUEUE_URL"] == OUTPUTS["JobsQueueUrl"]
    assert "SendFunction" not in env  # deployed without EnableSending
    for function, variables in declared_variables(TEMPLATE).items():
        if function in env:
            assert set(env[function]) == set(variables)  # SAM passes nothing else


def test_a_link_base_url_parameter_wins_over_the_function_url(aws):
    cloudformation = boto3.client("cloudformation")
    stack = deployed(cloudformation, parameters={"LinkBaseUrl": "https://links.shop.example.com"})
    env = env_from_stack(stack, template=TEMPLATE, cloudformation=cloudformation)
    assert env["GenerateFunction"]["NUDGE_LINK_BASE_URL"] == "https://links.shop.example.com"


def test_a_missing_output_is_named(aws):
    cloudformation = boto3.client("cloudformation")
    stack = deployed(cloudformation, outputs={k: v for k, v in OUTPUTS.items() if k != "JobsQueueUrl"})
    with pytest.raises(SamEnvError, match="NUDGE_JOBS_QUEUE_URL"):
        env_from_stack(stack, template=TEMPLATE, cloudformation=cloudformation)


def test_every_variable_that_names_a_resource_has_a_stack_output():
    # GIVEN the template's declared variables WHEN one is neither a literal nor a !Ref to a parameter
    # THEN it has an output in OUTPUT_FOR_VARIABLE that the template defines
    parameters, outputs = TEMPLATE.get("Parameters", {}), TEMPLATE.get("Outputs", {})
    for function, variables in declared_variables(TEMPLATE).items():
        for variable, value in variables.items():
            if isinstance(value, (str, int, float, bool)):
                continue
            if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
                continue
            assert variable in OUTPUT_FOR_VARIABLE, f"{function}.{variable} names a resource: add its stack output to OUTPUT_FOR_VARIABLE"
            assert OUTPUT_FOR_VARIABLE[variable] in outputs, f"template.yaml has no output {OUTPUT_FOR_VARIABLE[variable]}"


def test_local_settings_fill_declared_variables_only_and_blank_unresolved_resources():
    # GIVEN the local runner's values, one of which no function declares
    values = {"NUDGE_OUTPUT_BUCKET": "nudge-local-output", "AWS_ENDPOINT_URL": "http://127.0.0.1:5005", "NOT_DECLARED": "x"}
    env = env_from_settings(values, template=TEMPLATE)
    generate = env["GenerateFunction"]
    assert generate["NUDGE_OUTPUT_BUCKET"] == "nudge-local-output"
    assert generate["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5005"
    assert "NOT_DECLARED" not in generate
    assert generate["NUDGE_SECRET_ARN"] == ""  # names a resource, no value given: blank, not SAM's logical id
