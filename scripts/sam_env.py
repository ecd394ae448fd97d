"""The env-vars file for `sam local invoke` → build/sam/env.json (and invokable named events).

`sam local invoke` runs a function from the built template (.aws-sam/build/template.yaml) in
Docker, but it cannot resolve the template's references to resources (a bucket's name, a queue's
URL): each must come from an --env-vars file, and SAM passes a variable to the function only when
the template declares it for that function. This script writes that file, one section per function
with exactly the variables the template declares for it, from either

- a deployed stack (`--stack nudge`): its outputs and parameter values (CloudFormation
  DescribeStacks); the function then runs against that stack with your credentials and reads its
  keys from the stack's secret; or
- the local runner (`--local`): a moto server on loopback holding the stack's resources, the tiny
  test store and the keys the named events in tests/events/ were made with (kept in a local
  secret). `--serve` starts that server and keeps it up while you invoke.

`--event NAME` prints a named event from tests/events/ as its function receives it (a job body
or an SES event wrapped in the SQS batch its queue delivers), for `sam local invoke -e -`.
See docs/DEPLOY.md ("Invoke a function locally").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"
DEFAULT_OUT = ROOT / "build" / "sam" / "env.json"
BUILT_TEMPLATE = ".aws-sam/build/template.yaml"  # what `sam build` writes; sam local invoke -t takes it

# Variables whose template value names a resource (Ref, GetAtt, Sub, If), and the stack output
# that holds the deployed value. A variable that refers to a resource and is missing here fails
# loudly (tests/unit/test_sam_env.py checks the template against this table).
OUTPUT_FOR_VARIABLE = {
    "NUDGE_OUTPUT_BUCKET": "OutputBucketName",
    "NUDGE_PROFILE_TABLE": "ProfileTableName",
    "NUDGE_JOBS_QUEUE_URL": "JobsQueueUrl",
    "NUDGE_TRIGGERS_QUEUE_URL": "TriggersJobsQueueUrl",
    "NUDGE_ARTIFACTS_URI": "ArtifactsUri",
    "NUDGE_SECRET_ARN": "KeysSecretArn",
    "NUDGE_SES_CONFIGURATION_SET": "EmailEventsConfigurationSetName",
    "NUDGE_LINK_BASE_URL": "EndpointUrl",  # unless the LinkBaseUrl parameter is set (see env_from_stack)
}

# Named event → (function logical id, "sqs" when the file is a message body that its queue wraps).
EVENT_FUNCTIONS: dict[str, tuple[str, str | None]] = {
    "sqs_batch": ("GenerateFunction", None),
    "job_clearance": ("GenerateFunction", "sqs"),
    "job_abandoned_cart": ("GenerateFunction", "sqs"),
    "plan_request": ("PlanFunction", None),
    "cart_updated": ("CartFunction", None),
    "order_placed": ("CartFunction", None),
    "function_url_unsubscribe": ("EndpointFunction", None),
    **{name: ("EventsFunction", "sqs") for name in (
        "ses_send", "ses_delivery", "ses_bounce_permanent", "ses_bounce_transient", "ses_complaint", "ses_reject",
        "ses_open", "ses_open_mpp", "ses_click")},
}

# The keys the named events were made with (their pseudonymous ids and signed tokens), as
# tests/functional/conftest.py sets them. Local only: a deployed stack's keys live in its secret.
LOCAL_PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"
LOCAL_LINK_KEY = "test-link-key-0123456789abcdef"
LOCAL_SECRET_NAME = "nudge-local-keys"


class SamEnvError(RuntimeError):
    """The env-vars file cannot be made (a stack output or a template variable is missing)."""


# --------------------------------------------------------------------------------------------
# The template: which variables each function declares
# --------------------------------------------------------------------------------------------

def declared_variables(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{function logical id: {variable: template value}}: Globals' variables and the function's own,
    the only ones `sam local invoke` passes to it."""
    globals_ = (((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    out = {}
    for name, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        own = (((resource.get("Properties") or {}).get("Environment") or {}).get("Variables")) or {}
        out[name] = {**globals_, **own}
    return out


def _parameter_ref(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """The parameter a `!Ref Param` value names (None for anything else)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return value["Ref"]
    return None


# --------------------------------------------------------------------------------------------
# From a deployed stack
# --------------------------------------------------------------------------------------------

def env_from_stack(stack_name: str, *, template: Mapping[str, Any], cloudformation: Any = None) -> dict[str, dict[str, str]]:
    """The env-vars file's content for a deployed stack: each function's declared variables, from the
    stack's outputs (resources) and parameter values (a `!Ref Param` variable), literals as written."""
    if cloudformation is None:
        import boto3

        cloudformation = boto3.client("cloudformation")
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", "")) for p in stack.get("Parameters", [])}
    template_parameters = template.get("Parameters") or {}
    env: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for function, variables in declared_variables(template).items():
        if function == "SendFunction" and "SendFunctionArn" not in outputs:
            continue  # the stack was deployed without EnableSending: no such function
        section = {}
        for variable, value in variables.items():
            parameter = _parameter_ref(value, template_parameters)
            if isinstance(value, (str, int, float, bool)):
                section[variable] = str(value)
            elif parameter is not None:
                section[variable] = str(parameters.get(parameter, template_parameters[parameter].get("Default", "")))
            elif variable == "NUDGE_LINK_BASE_URL" and parameters.get("LinkBaseUrl"):
                section[variable] = parameters["LinkBaseUrl"]
            elif OUTPUT_FOR_VARIABLE.get(variable) in outputs:
                section[variable] = outputs[OUTPUT_FOR_VARIABLE[variable]]
            else:
                missing.append(f"{function}.{variable} (output {OUTPUT_FOR_VARIABLE.get(variable, '?')})")
        env[function] = section
    if missing:
        raise SamEnvError(f"stack {stack_name!r} lacks what these variables need: {', '.join(sorted(set(missing)))}")
    return env


# --------------------------------------------------------------------------------------------
# From the local runner
# --------------------------------------------------------------------------------------------

def env_from_settings(values: Mapping[str, str], *, template: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The env-vars file's content for given variable values (the local runner's): each function gets
    the values of the variables it declares. A declared variable with no value is set empty when it
    names a resource (SAM would otherwise pass the resource's logical id), else left to the template."""
    env = {}
    for function, variables in declared_variables(template).items():
        section = {}
        for variable, value in variables.items():
            if variable in values:
                section[variable] = str(values[variable])
            elif not isinstance(value, (str, int, float, bool)) and _parameter_ref(value, template.get("Parameters") or {}) is None:
                section[variable] = ""
        env[function] = section
    return env


@dataclass(frozen=True)
class LocalStack:
    """The local runner's stack for `sam local invoke`: resource names, keys secret and endpoint."""

    values: dict[str, str]  # every variable the functions read, as the local runner sets them
    endpoint: str


def start_local_stack(endpoint: str, *, artifacts_dir: Path) -> LocalStack:
    """Create the stack in the moto server at `endpoint` (boto3 already pointed at it): resources,
    the tiny store's profiles, its recommender artifacts, the keys in a local secret, and the
    pseudonym the SES events name (what the generate step records)."""
    from nudge.identity import pseudonymize
    from nudge.profiles import build_profiles
    from nudge.storage import ProfileStore, client, upload_dir
    from nudge.store import load_store
    from nudge.types import StoreInfo
    from nudge_local.stack import create_stack, function_env

    stack = create_stack()
    store = load_store(ROOT / "tests" / "fixtures" / "store_tiny")
    profiles = ProfileStore(stack.table)
    profiles.put_profiles(build_profiles(store.customers, store.events, store.products).values())
    profiles.put_pseudonym(pseudonymize("c001", key=LOCAL_PSEUDONYM_KEY.encode()), "c001")
    if not (artifacts_dir / "recommender" / "meta.json").exists():
        from scripts.train_recommender import TrainConfig, main as train

        train(TrainConfig(source=str(ROOT / "tests" / "fixtures" / "store_tiny"), out_dir=str(artifacts_dir / "recommender"),
                          catalog_dir=str(artifacts_dir / "catalog")))
    upload_dir(artifacts_dir, f"s3://{stack.bucket}/artifacts/")
    secret_arn = client("secretsmanager").create_secret(
        Name=LOCAL_SECRET_NAME, SecretString=json.dumps({"pseudonym_key": LOCAL_PSEUDONYM_KEY, "link_key": LOCAL_LINK_KEY}),
    )["ARN"]
    info = StoreInfo(name="Hearth & Thread", postal_address="12 Example Street, Bristol BS1 4XX, United Kingdom",
                     base_url="https://shop.example.com", sender="Hearth & Thread <news@shop.example.com>")
    values = function_env(stack, store=info, model_dir=str(ROOT / "layers" / "model" / "copywriter"),
                          pseudonym_key="", link_key="",  # from the secret, as in AWS
                          NUDGE_SECRET_ARN=secret_arn, NUDGE_HOLDOUT_SHARE="0", AWS_ENDPOINT_URL=endpoint)
    values["NUDGE_MODEL_DIR"] = "/opt/copywriter"  # inside the SAM container: the model layer's mount point
    return LocalStack(values=values, endpoint=endpoint)


# --------------------------------------------------------------------------------------------
# Named events as their functions receive them
# --------------------------------------------------------------------------------------------

def invocation_event(name: str) -> tuple[str, dict[str, Any]]:
    """(function logical id, event) for the named event tests/events/<name>.json: a message body is
    wrapped in the one-record SQS batch that its queue's event source hands the function."""
    if name not in EVENT_FUNCTIONS:
        raise SamEnvError(f"no function is known for tests/events/{name}.json; known: {', '.join(sorted(EVENT_FUNCTIONS))}")
    function, wrap = EVENT_FUNCTIONS[name]
    text = (EVENTS / f"{name}.json").read_text(encoding="utf-8")
    if wrap != "sqs":
        return function, json.loads(text)
    queue = "nudge-jobs" if function == "GenerateFunction" else "nudge-email-events"
    body = json.dumps(json.loads(text))
    return function, {"Records": [{
        "messageId": f"00000000-0000-0000-0000-{zlib.crc32(name.encode()):012d}", "receiptHandle": f"rh-{name}",
        "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1763632800000",
                                     "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1763632800000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}", "awsRegion": "us-east-1"}]}


def write_env(env: Mapping[str, Mapping[str, str]], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(env, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def _commands(out: Path) -> str:
    relative = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    return "\n".join((
        "  sam build",
        f"  sam local invoke GenerateFunction -t {BUILT_TEMPLATE} --env-vars {relative} -e tests/events/sqs_batch.json",
        f"  python scripts/sam_env.py --event ses_click | sam local invoke EventsFunction -t {BUILT_TEMPLATE} --env-vars {relative} -e -",
    ))


def main(argv: list[str] | None = None) -> int:
    from nudge_local.stack import load_template

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="a deployed stack's name: its outputs and parameters")
    source.add_argument("--local", action="store_true", help="the local runner: a moto server with the stack and the test store")
    source.add_argument("--event", help="print tests/events/<EVENT>.json as its function receives it, and exit")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--port", type=int, default=5005, help="--local: the moto server's port on 127.0.0.1")
    parser.add_argument("--endpoint", help="--local: the URL the SAM container reaches that server at "
                                           "(default http://127.0.0.1:PORT, with `sam local invoke --docker-network host`; "
                                           "Docker Desktop: http://host.docker.internal:PORT)")
    parser.add_argument("--serve", action="store_true", help="--local: keep the moto server up until Ctrl-C")
    args = parser.parse_args(argv)
    if args.event:
        _, event = invocation_event(args.event)
        print(json.dumps(event, indent=2))
        return 0
    template = load_template(ROOT / "template.yaml")
    if args.stack:
        print(f"wrote {write_env(env_from_stack(args.stack, template=template), args.out)}; then:\n{_commands(args.out)}")
        return 0
    from nudge_local.stack import moto_server

    with moto_server(port=args.port):
        local = start_local_stack(args.endpoint or f"http://127.0.0.1:{args.port}", artifacts_dir=ROOT / "build" / "sam" / "artifacts")
        out = write_env(env_from_settings(local.values, template=template), args.out)
        print(f"wrote {out} for the local stack at {local.endpoint}; then (with --docker-network host):\n{_commands(out)}")
        if not args.serve:
            print("(the server stops now: add --serve to keep it up while you invoke)")
            return 0
        print("serving; Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
