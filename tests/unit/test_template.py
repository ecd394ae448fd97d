"""The SAM template: GIVEN template.yaml WHEN read as data THEN it keeps the promises that cfn-lint
does not check (retry arithmetic, partial batch failures, encryption, TLS-only access, least
privilege, layer layout, and the environment contract with nudge.config).

The last test runs `sam validate --lint` from .venv-tools (skipped with a reason when that
virtualenv is missing, and failed instead in CI, where the Makefile creates it).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from nudge.config import VARIABLES
from scripts.check_package import load_template
from tests.conftest import ROOT

TEMPLATE_PATH = ROOT / "template.yaml"
SAM = ROOT / ".venv-tools" / "bin" / "sam"
SECURE_TRANSPORT_FALSE = ("false", False)

# Allow statements that may use "*" (as an action, a service-wide "svc:*", or a resource), each
# with the reason AWS leaves no narrower choice. Keyed by (logical id, statement Sid).
WILDCARD_EXCEPTIONS = {
    # In a key policy Resource "*" means "this key"; the root statement delegates to IAM, without
    # which nobody could ever administer the key again.
    ("NudgeKey", "AccountAdministersKeyThroughIam"),
    # Same key policy, for the service that publishes alarms to the encrypted SNS topic.
    ("NudgeKey", "CloudWatchPublishesToEncryptedAlarmTopic"),
}
# Not checked here, because the template does not hold them: the AWS-managed policies SAM attaches
# to every function role (AWSLambdaBasicExecutionRole for logs, AWSXrayWriteOnlyAccess for
# Tracing, AWSLambdaSQSQueueExecutionRole for the SQS event: receive/delete on any queue).
# SAM policy templates expand to statements scoped to the resource they are given.
ALLOWED_POLICY_TEMPLATES = {"SQSSendMessagePolicy"}


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def function_setting(template: dict[str, Any], logical_id: str, name: str) -> Any:
    """A function property as deployed: the function's own value, else the Globals value."""
    own = props(template, logical_id)
    if name in own:
        return own[name]
    return template.get("Globals", {}).get("Function", {}).get(name)


def function_environment(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """Globals variables merged under the function's own (SAM merges the two maps)."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = props(template, logical_id).get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def sqs_events(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, function in of_type(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                yield logical_id, event["Properties"]


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_tls_only_statement(statement: dict[str, Any]) -> bool:
    secure = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    return statement.get("Effect") == "Deny" and statement.get("Principal") in ("*", {"AWS": "*"}) and secure in SECURE_TRANSPORT_FALSE


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (logical id, statement) in the template: functions' inline policies, IAM resources,
    key, bucket, queue and topic policies."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in as_list(properties.get("Policies", [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    documents.append(policy)
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy",
                                  "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            documents.append(properties["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
        elif resource["Type"] == "AWS::KMS::Key":
            documents.append(properties["KeyPolicy"])
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield logical_id, statement


# ------------------------------------------------------------------------------------------------
# Queues and the event source
# ------------------------------------------------------------------------------------------------
def test_jobs_queue_visibility_timeout_covers_six_generate_timeouts_plus_the_batching_window(template):
    # GIVEN the generate function's timeout (its own or from Globals) and its SQS batching window
    timeout = function_setting(template, "GenerateFunction", "Timeout")
    for event in [e for f, e in sqs_events(template) if f == "GenerateFunction"]:  # JobsQueue, TriggersJobsQueue
        window = event.get("MaximumBatchingWindowInSeconds", 0)
        # WHEN its queue's visibility timeout is read
        visibility = props(template, event["Queue"]["Fn::GetAtt"][0])["VisibilityTimeout"]
        # THEN a slow batch is never redelivered while it still runs (AWS: >= 6x timeout + window)
        assert isinstance(timeout, int) and isinstance(visibility, int), "both must be literals to be checked"
        assert visibility >= 6 * timeout + window, f"VisibilityTimeout {visibility} < 6 x {timeout} + {window}"


def test_the_claim_lease_outlasts_the_generate_timeout_and_ends_before_redelivery(template):
    # GIVEN the generate function's timeout, its claim lease and the jobs queue's visibility timeout
    timeout = function_setting(template, "GenerateFunction", "Timeout")
    lease = int(function_environment(template, "GenerateFunction")["NUDGE_CLAIM_LEASE_SECONDS"])
    visibility = props(template, "JobsQueue")["VisibilityTimeout"]
    # THEN an attempt is dead (killed at its timeout) before its lease ends, so a retry taking the
    # claim over never races a live writer; and a redelivered job finds the lease already ended
    assert timeout < lease <= visibility, (timeout, lease, visibility)


def test_generate_reads_jobs_in_batches_of_ten_and_reports_item_failures(template):
    # GIVEN the SQS event sources WHEN the generate function's is read
    events = [e for f, e in sqs_events(template) if f == "GenerateFunction" and e["Queue"] == arn_of("JobsQueue")]
    # THEN there is exactly one on the jobs queue (the other reads TriggersJobsQueue), with partial batch responses spelled right
    assert len(events) == 1
    event = events[0]
    assert event["BatchSize"] == 10
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # and its concurrency is capped by the event source, not by reserving account concurrency
    assert event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "MaxConcurrency"}


def test_failed_jobs_move_to_the_dlq_after_three_receives_and_stay_fourteen_days(template):
    # GIVEN the jobs queue and its dead-letter queue
    jobs, dlq = props(template, "JobsQueue"), props(template, "JobsDLQ")
    # THEN a job is tried three times, then parked for the SQS maximum of 14 days
    assert jobs["RedrivePolicy"] == {"deadLetterTargetArn": arn_of("JobsDLQ"), "maxReceiveCount": 3}
    assert dlq["MessageRetentionPeriod"] == 1_209_600
    # and longer than on the jobs queue: a standard queue keeps a message's first enqueue time,
    # so a DLQ with a shorter retention would drop redriven jobs at once
    assert dlq["MessageRetentionPeriod"] > jobs.get("MessageRetentionPeriod", 345_600)


def test_every_queue_is_encrypted_and_refuses_plain_http(template):
    queues = of_type(template, "AWS::SQS::Queue")
    queue_policies = of_type(template, "AWS::SQS::QueuePolicy").values()
    assert set(queues) >= {"JobsQueue", "JobsDLQ"}
    for logical_id, queue in queues.items():
        # GIVEN a queue THEN it is encrypted at rest (SQS-managed or KMS)
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, logical_id
        # AND a queue policy on it denies every request not made over TLS
        guarded = [
            statement
            for policy in queue_policies
            if {"Ref": logical_id} in policy["Properties"]["Queues"]
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
            if is_tls_only_statement(statement) and arn_of(logical_id) in as_list(statement["Resource"])
        ]
        assert guarded, f"{logical_id} has no TLS-only queue policy"


# ------------------------------------------------------------------------------------------------
# Storage
# ------------------------------------------------------------------------------------------------
def test_every_bucket_is_encrypted_private_versioned_and_refuses_plain_http(template):
    buckets = of_type(template, "AWS::S3::Bucket")
    bucket_policies = of_type(template, "AWS::S3::BucketPolicy").values()
    assert "OutputBucket" in buckets
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        # GIVEN a bucket THEN it is encrypted by default
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse"), logical_id
        # AND no ACL or bucket policy can make it public
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }, logical_id
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], logical_id
        # AND overwritten objects can be recovered, for a while
        assert properties["VersioningConfiguration"]["Status"] == "Enabled", logical_id
        lifecycle = properties["LifecycleConfiguration"]["Rules"]
        assert any(r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r for r in lifecycle), logical_id
        # AND its policy denies plain HTTP on the bucket and on every object
        guarded = [
            statement
            for policy in bucket_policies
            if policy["Properties"]["Bucket"] == {"Ref": logical_id}
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
            if is_tls_only_statement(statement)
        ]
        assert guarded, f"{logical_id} has no TLS-only bucket policy"
        resources = as_list(guarded[0]["Resource"])
        assert arn_of(logical_id) in resources
        assert {"Fn::Sub": f"${{{logical_id}.Arn}}/*"} in resources


def test_profile_table_is_encrypted_recoverable_on_demand_and_keyed_pk_sk(template):
    # GIVEN the profile table (and any other)
    tables = of_type(template, "AWS::DynamoDB::Table")
    assert "ProfileTable" in tables
    for logical_id, table in tables.items():
        properties = table["Properties"]
        # THEN it is encrypted, point-in-time recoverable, on-demand and protected by a parameter
        assert properties["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id
        assert properties["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert properties["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}, logical_id
    profile = props(template, "ProfileTable")
    # AND the keys and TTL attribute are the ones nudge.profiles and the planner write
    assert profile["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {"AttributeName": "pk", "AttributeType": "S"} in profile["AttributeDefinitions"]
    assert {"AttributeName": "sk", "AttributeType": "S"} in profile["AttributeDefinitions"]
    assert profile["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_customer_data_and_its_keys_survive_a_deleted_stack(template):
    # GIVEN the resources whose loss loses customer data or the meaning of pseudonymous ids
    for logical_id in ("OutputBucket", "ProfileTable", "KeysSecret", "NudgeKey"):
        resource = template["Resources"][logical_id]
        # THEN deleting or replacing the stack keeps them
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_keys_secret_is_generated_kms_encrypted_and_holds_both_keys(template):
    # GIVEN the secret the functions read (NUDGE_SECRET_ARN)
    secret = props(template, "KeysSecret")
    assert function_environment(template, "GenerateFunction")["NUDGE_SECRET_ARN"] == {"Ref": "KeysSecret"}
    # THEN it is encrypted with the stack's customer-managed key and generated, never typed in
    assert secret["KmsKeyId"] == {"Ref": "NudgeKey"}
    generated = secret["GenerateSecretString"]
    # AND it holds the two JSON keys nudge.config documents: pseudonym_key and link_key
    template_text = json.dumps(generated["SecretStringTemplate"])
    assert generated["GenerateStringKey"] == "link_key"
    assert '\\"pseudonym_key\\"' in template_text and "PseudonymKeySeed" in template_text
    assert "pseudonym_key and link_key" in VARIABLES["secret_arn"][3]
    assert props(template, "NudgeKey")["EnableKeyRotation"] is True


# ------------------------------------------------------------------------------------------------
# Least privilege
# ------------------------------------------------------------------------------------------------
def test_no_allow_statement_uses_a_wildcard_action_or_resource_except_the_listed_ones(template):
    # GIVEN every Allow statement in the template (Deny statements only take rights away)
    found = set()
    for logical_id, statement in policy_statements(template):
        if statement.get("Effect") != "Allow":
            continue  # a Deny with "*" only takes rights away
        actions = as_list(statement.get("Action", []))
        wildcard_action = any(a == "*" or (isinstance(a, str) and a.endswith(":*")) for a in actions)
        wildcard_resource = "*" in as_list(statement.get("Resource", []))
        if wildcard_action or wildcard_resource:
            found.add((logical_id, statement.get("Sid")))
    # THEN the only wildcards are the listed exceptions (a stale exception fails too)
    assert found == WILDCARD_EXCEPTIONS


def test_functions_use_only_scoped_policy_templates(template):
    for logical_id in of_type(template, "AWS::Serverless::Function"):
        for policy in as_list(props(template, logical_id).get("Policies", [])):
            # GIVEN a policy that is not an inline document THEN it is a known, resource-scoped template
            assert isinstance(policy, dict), f"{logical_id}: managed policy {policy!r} is not allowed"
            if "Statement" not in policy:
                assert set(policy) <= ALLOWED_POLICY_TEMPLATES, f"{logical_id}: {set(policy)}"


def test_generate_writes_only_emails_and_reads_only_artifacts(template):
    # GIVEN the generate function's S3 statements
    s3 = [s for f, s in policy_statements(template) if f == "GenerateFunction" and any(
        a.startswith("s3:") for a in as_list(s["Action"]))]
    by_action = {a: s for s in s3 for a in as_list(s["Action"])}
    # THEN it may put objects under emails/ only and get objects under artifacts/ only
    assert set(by_action) == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    assert by_action["s3:PutObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/emails/*"}
    assert by_action["s3:GetObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/artifacts/*"}
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["artifacts/*"]}}


@pytest.mark.parametrize(
    "function, expected",
    [
        # one customer per record: batch reads, a conditional claim (SEND#, CAP), release and fenced finish
        ("GenerateFunction", {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
                              "dynamodb:UpdateItem", "dynamodb:DeleteItem"}),
        # the audience: a scan of the profiles; holdouts recorded in batches
        ("PlanFunction", {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem",
                          "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}),
    ],
)
def test_each_function_gets_exactly_its_table_actions_on_the_profile_table_only(template, function, expected):
    # GIVEN a function's DynamoDB statements (nudge.storage.ProfileStore is the only caller)
    statements = [s for f, s in policy_statements(template) if f == function
                  and any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    # THEN they name exactly the actions its service calls, on the profile table and nothing else
    assert {a for s in statements for a in as_list(s["Action"])} == expected
    assert all(s["Resource"] == arn_of("ProfileTable") for s in statements)


def test_each_function_reads_the_keys_secret_only(template):
    for logical_id in ("GenerateFunction", "PlanFunction"):
        # GIVEN a function's statements THEN it may read KeysSecret and nothing else in Secrets
        # Manager, and decrypt with NudgeKey only through Secrets Manager
        statements = [s for f, s in policy_statements(template) if f == logical_id]
        secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        assert [s["Resource"] for s in secret_reads] == [{"Ref": "KeysSecret"}], logical_id
        decrypts = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
        assert [s["Resource"] for s in decrypts] == [arn_of("NudgeKey")], logical_id
        assert "kms:ViaService" in decrypts[0]["Condition"]["StringEquals"], logical_id


# ------------------------------------------------------------------------------------------------
# Layers, runtime, and the environment contract
# ------------------------------------------------------------------------------------------------
def test_layers_hold_no_python_folder_and_match_the_runtime_and_architecture(template):
    runtime = function_setting(template, "GenerateFunction", "Runtime")
    architectures = function_setting(template, "GenerateFunction", "Architectures")
    for logical_id, layer in of_type(template, "AWS::Serverless::LayerVersion").items():
        properties, metadata = layer["Properties"], layer.get("Metadata", {})
        # GIVEN a layer's source folder THEN it has no python/ folder (SAM's build adds one)
        source = ROOT / properties["ContentUri"]
        assert source.is_dir(), f"{logical_id}: {source} is missing"
        assert not (source / "python").exists(), f"{logical_id}: {source}/python would become python/python"
        # AND it runs on the functions' runtime and architecture
        assert runtime in properties["CompatibleRuntimes"], logical_id
        assert set(architectures) <= set(properties["CompatibleArchitectures"]), logical_id
        if "BuildMethod" in metadata:
            assert metadata["BuildMethod"] == runtime, logical_id
            assert [metadata.get("BuildArchitecture", "x86_64")] == architectures, f"{logical_id}: wheels for the wrong CPU"


def _requirement_closure(requirements_file: Path) -> set[str]:
    """Normalized names of the distributions a requirements file installs, dependencies included
    (read from the installed metadata of this virtualenv, extras honoured)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pending = []
    for line in requirements_file.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pending.append(Requirement(line))
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: it still counts as listed
        for raw in requires:
            dependency = Requirement(raw)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                pending.append(dependency)
    return seen


def test_runtime_layer_requirements_cover_every_import_of_the_core():
    import ast
    import sys
    from importlib import metadata

    from packaging.utils import canonicalize_name

    # GIVEN every module the core imports, at the top or lazily inside a function (the local
    # runner under nudge/local/ never runs in Lambda; boto3 and botocore come with the runtime)
    layer = ROOT / "layers" / "runtime"
    provided_by_lambda = {"boto3", "botocore"}
    imported: dict[str, str] = {}
    for path in sorted((layer / "nudge").rglob("*.py")):
        if "local" in path.relative_to(layer / "nudge").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in provided_by_lambda and top != "nudge":
                    imported.setdefault(top, str(path.relative_to(ROOT)))
    # WHEN they are matched to the distributions layers/runtime/requirements.txt installs
    installed = _requirement_closure(layer / "requirements.txt")
    owners = metadata.packages_distributions()
    missing = {
        module: where for module, where in imported.items()
        if not {canonicalize_name(d) for d in owners.get(module, [module])} & installed
    }
    # THEN none is missing: `sam build` installs only that file, so a missing one is an
    # ImportError in Lambda that no local test sees (the dev virtualenv has everything)
    assert not missing, f"imported by the core but not in layers/runtime/requirements.txt: {missing}"


def test_model_layer_is_mounted_where_the_generate_function_looks(template):
    # GIVEN the model layer: no build step, so its folder is zipped as it is and extracted under /opt
    model = template["Resources"]["ModelLayer"]
    assert "BuildMethod" not in model.get("Metadata", {})
    assert props(template, "ModelLayer")["ContentUri"].rstrip("/") == "layers/model"
    # THEN layers/model/copywriter/ is /opt/copywriter, which is NUDGE_MODEL_DIR
    assert function_environment(template, "GenerateFunction")["NUDGE_MODEL_DIR"] == "/opt/copywriter"
    assert {"Ref": "ModelLayer"} in props(template, "GenerateFunction")["Layers"]
    assert (ROOT / "layers" / "model" / "README.md").exists()


def test_function_environments_follow_nudge_config(template):
    known = {var for var, *_ in VARIABLES.values()}
    for logical_id, short_name in (("GenerateFunction", "generate"), ("PlanFunction", "plan")):
        environment = function_environment(template, logical_id)
        # GIVEN the variables a function gets THEN each NUDGE_* one is a setting nudge.config knows
        unknown = {var for var in environment if var.startswith("NUDGE_")} - known
        assert not unknown, f"{logical_id}: {unknown} (typo, or missing from nudge.config.VARIABLES)"
        # AND every setting that function requires (no default) is set
        required = {var for var, used_by, default, _ in VARIABLES.values() if default is None and short_name in used_by}
        assert required <= set(environment), f"{logical_id} misses {required - set(environment)}"
        # AND the keys come from the secret, never from plain environment variables
        assert "NUDGE_PSEUDONYM_KEY" not in environment and "NUDGE_LINK_KEY" not in environment
        assert environment["POWERTOOLS_SERVICE_NAME"] == "nudge"
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Nudge"
        assert environment["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_generate_memory_parameter_stays_in_the_measured_range(template):
    # GIVEN the memory parameter THEN the function uses it and it stays within 1024-2048 MB
    parameter = template["Parameters"]["GenerateMemorySize"]
    assert props(template, "GenerateFunction")["MemorySize"] == {"Ref": "GenerateMemorySize"}
    assert 1024 <= parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"] <= 2048


# ------------------------------------------------------------------------------------------------
# The linters, through the tools virtualenv
# ------------------------------------------------------------------------------------------------
def test_sam_validate_lint_passes(tmp_path):
    if not SAM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SAM} is missing in CI; `make tools` (requirements/tools.txt) creates it")
        pytest.skip(f"{SAM} not found: create .venv-tools from requirements/tools.txt to run sam validate --lint")
    # GIVEN a SAM CLI that neither sends telemetry nor checks PyPI for a newer version (its weekly
    # check is marked as just done, and any stray request goes to a closed loopback port)
    (tmp_path / "metadata.json").write_text(json.dumps({"telemetryEnabled": False, "lastVersionCheck": time.time()}))
    env = {
        **os.environ, "SAM_CLI_TELEMETRY": "0", "__SAM_CLI_APP_DIR": str(tmp_path), "AWS_DEFAULT_REGION": "us-east-1",
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
    }
    # WHEN it validates the template with cfn-lint
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    # THEN it passes with nothing to say
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# ------------------------------------------------------------------------------------------------
# The package size check (scripts/check_package.py), on a fake build
# ------------------------------------------------------------------------------------------------
def test_package_check_adds_the_layers_from_globals_and_the_function_and_flags_the_excess(tmp_path):
    from scripts.check_package import MIB, Config, main, measure

    # GIVEN a built template: one function of 1 MiB code, a Globals layer of 2 MiB and its own of 3 MiB
    for folder, mib in (("Fn", 1), ("Shared", 2), ("../model", 3)):
        (tmp_path / "build" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "build" / folder / "blob.bin").write_bytes(b"\0" * (mib * MIB))
    (tmp_path / "build" / "template.yaml").write_text(
        "Globals:\n  Function:\n    Layers: [!Ref SharedLayer]\n"
        "Resources:\n"
        "  SharedLayer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: Shared}}\n"
        "  ModelLayer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: ../model}}\n"
        "  Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: Fn, Layers: [!Ref ModelLayer]}}\n"
    )
    # WHEN it is measured against a 5.5 MiB limit
    report = measure(tmp_path / "build", limit_mb=5.5)
    # THEN code and both layers count, unzipped, and the function is over by half a MiB
    [row] = report["functions"]
    assert row["layers"] == {"SharedLayer": 2.0, "ModelLayer": 3.0}
    assert (row["code_mb"], row["total_mb"], row["headroom_mb"], row["ok"]) == (1.0, 6.0, -0.5, False)
    # AND main exits 1 and still writes the report
    status = main(Config(build_dir=tmp_path / "build", report_path=tmp_path / "r.json", limit_mb=5.5, skip_build=True))
    assert status == 1
    assert json.loads((tmp_path / "r.json").read_text())["ok"] is False


# ================================================================================================
# Campaign schedules, the abandoned-cart trigger and optional sending (docs/TRIGGERS.md)
# ================================================================================================
def schedule_events(template: dict[str, Any], logical_id: str) -> dict[str, dict[str, Any]]:
    events = props(template, logical_id).get("Events", {})
    return {name: e["Properties"] for name, e in events.items() if e["Type"] == "ScheduleV2"}


def parameter_default(template: dict[str, Any], value: Any) -> Any:
    assert isinstance(value, dict) and "Ref" in value, f"{value!r} is not a parameter reference"
    return template["Parameters"][value["Ref"]].get("Default")


def test_each_batch_campaign_has_a_plan_schedule_disabled_by_default(template):
    from nudge.types import CAMPAIGN_TYPES

    # GIVEN the EventBridge Scheduler schedules, which start the plan state machine (segments, checkpoints)
    assert schedule_events(template, "PlanFunction") == {}  # never the function alone: one invocation, one segment
    schedules = schedule_events(template, "PlanStateMachine")
    by_campaign = {json.loads(s["Input"])["campaign_type"]: s for s in schedules.values()}
    # THEN there is one per batch campaign; abandoned_cart is a trigger, not a schedule
    assert set(by_campaign) == set(CAMPAIGN_TYPES) - {"abandoned_cart"}
    assert len(schedules) == len(by_campaign)
    for campaign, schedule in by_campaign.items():
        # AND each is DISABLED unless its State parameter says otherwise
        assert parameter_default(template, schedule["State"]) == "DISABLED", campaign
        assert template["Parameters"][schedule["State"]["Ref"]]["AllowedValues"] == ["ENABLED", "DISABLED"]
        # AND its time and the time zone are parameters, with a cron default
        assert parameter_default(template, schedule["ScheduleExpression"]).startswith("cron("), campaign
        assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        # AND its name is generated, so two stacks in one account never clash
        assert schedule["OmitName"] is True
    assert template["Parameters"]["ScheduleTimezone"]["Default"] == "UTC"


def test_the_cart_sweep_runs_every_five_minutes_and_a_parameter_can_pause_it(template):
    # GIVEN the sweep function's schedule
    [schedule] = schedule_events(template, "SweepFunction").values()
    # THEN it runs every 5 minutes, ENABLED by default (cheap, idempotent), never retried late
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert parameter_default(template, schedule["State"]) == "ENABLED"
    assert schedule["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert props(template, "SweepFunction")["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    # AND it sends reminders to their own queue only, never behind a batch campaign
    policies = props(template, "SweepFunction")["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["TriggersJobsQueue", "QueueName"]}}} in policies
    assert [p for p in policies if "SQSSendMessagePolicy" in p] == [
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["TriggersJobsQueue", "QueueName"]}}}]
    assert function_environment(template, "SweepFunction")["NUDGE_TRIGGERS_QUEUE_URL"] == {"Ref": "TriggersJobsQueue"}


def test_the_cart_function_hears_the_store_source_on_the_configured_bus_and_parks_failures(template):
    # GIVEN the cart function's EventBridge rule
    [event] = [e["Properties"] for e in props(template, "CartFunction")["Events"].values() if e["Type"] == "EventBridgeRule"]
    # THEN it matches the store's cart and order events only, on the bus parameter (default "default")
    assert event["EventBusName"] == {"Ref": "CartEventBusName"}
    assert template["Parameters"]["CartEventBusName"]["Default"] == "default"
    assert event["Pattern"] == {"source": [{"Ref": "CartEventSource"}], "detail-type": ["CartUpdated", "OrderPlaced"]}
    # AND an event that keeps failing lands in the (encrypted, TLS-only) TriggersDLQ
    assert props(template, "CartFunction")["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": arn_of("TriggersDLQ")}
    assert function_environment(template, "CartFunction")["NUDGE_CART_DELAY_MINUTES"] == {"Ref": "CartReminderDelayMinutes"}
    assert template["Parameters"]["CartReminderDelayMinutes"]["Default"] == 120


def test_the_send_function_exists_only_when_sending_is_enabled(template):
    # GIVEN the sending switch THEN it is off by default
    assert template["Parameters"]["EnableSending"]["Default"] == "false"
    assert template["Conditions"]["SendingEnabled"] == {"Fn::Equals": [{"Ref": "EnableSending"}, "true"]}
    # AND the send function, its log group, its output and the table's stream all hang on it
    for logical_id in ("SendFunction", "SendLogGroup"):
        assert template["Resources"][logical_id]["Condition"] == "SendingEnabled", logical_id
    assert template["Outputs"]["SendFunctionArn"]["Condition"] == "SendingEnabled"
    stream = props(template, "ProfileTable")["StreamSpecification"]
    assert stream == {"Fn::If": ["SendingEnabled", {"StreamViewType": "KEYS_ONLY"}, {"Ref": "AWS::NoValue"}]}
    # AND a deploy that enables sending must name the SES identity
    assert "SendingNeedsAnIdentity" in template["Rules"]
    # AND the function reads only completed SEND# items, reports item failures and parks the rest
    [event] = props(template, "SendFunction")["Events"].values()
    stream_source = event["Properties"]
    assert stream_source["Stream"] == {"Fn::GetAtt": ["ProfileTable", "StreamArn"]}
    assert stream_source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream_source["DestinationConfig"]["OnFailure"]["Destination"] == arn_of("TriggersDLQ")
    [pattern] = [json.loads(f["Pattern"]) for f in stream_source["FilterCriteria"]["Filters"]]
    assert pattern["dynamodb"]["Keys"]["sk"]["S"] == [{"prefix": "SEND#"}]


def test_the_send_function_may_send_from_the_configured_identity_and_read_emails_only(template):
    statements = [s for f, s in policy_statements(template) if f == "SendFunction"]
    by_action = {a: s for s in statements for a in as_list(s["Action"])}
    # THEN SES SendRawEmail on the one identity through nudge's configuration set, S3 reads under
    # emails/ only and writes under events/ only ("sent" events), nothing else of either
    assert by_action["ses:SendRawEmail"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SendingIdentity}"},
        {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EmailEventsConfigurationSet}"}]
    assert {a for a in by_action if a.startswith("ses:")} == {"ses:SendRawEmail"}
    assert {a for a in by_action if a.startswith("s3:")} == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}
    assert by_action["s3:GetObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/emails/*"}
    assert by_action["s3:PutObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/events/*"}


@pytest.mark.parametrize(
    "function, expected",
    [
        # read the profile, conditional cart update, put the due item
        ("CartFunction", {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}),
        # query due buckets, batch-read profiles, delete handled due items, record holdouts
        ("SweepFunction", {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}),
        # SEND# status and profile reads, the SENT# claim and its release
        ("SendFunction", {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}),
    ],
)
def test_each_trigger_function_gets_exactly_its_table_actions(template, function, expected):
    test_each_function_gets_exactly_its_table_actions_on_the_profile_table_only(template, function, expected)


@pytest.mark.parametrize("logical_id, short_name, reads_keys", [
    ("CartFunction", "cart", True), ("SweepFunction", "sweep", True), ("SendFunction", "send", True)])
def test_trigger_function_environments_follow_nudge_config(template, logical_id, short_name, reads_keys):
    known = {var for var, *_ in VARIABLES.values()}
    environment = function_environment(template, logical_id)
    # GIVEN the variables the function gets THEN nudge.config knows each, and every required one is set
    assert not {v for v in environment if v.startswith("NUDGE_")} - known
    required = {var for var, used_by, default, _ in VARIABLES.values() if default is None and short_name in used_by}
    assert required <= set(environment), f"{logical_id} misses {required - set(environment)}"
    assert "NUDGE_PSEUDONYM_KEY" not in environment and "NUDGE_LINK_KEY" not in environment
    # AND it may read the keys secret exactly when it needs the pseudonym key
    statements = [s for f, s in policy_statements(template) if f == logical_id]
    secret_reads = [s["Resource"] for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert secret_reads == ([{"Ref": "KeysSecret"}] if reads_keys else [])


def test_every_trigger_handler_exists_and_the_template_names_it(template):
    for logical_id in ("CartFunction", "SweepFunction", "SendFunction", "EventsFunction"):
        code = ROOT / props(template, logical_id)["CodeUri"]
        # GIVEN a trigger function THEN its folder holds app.handler and a requirements file for sam build
        assert props(template, logical_id)["Handler"] == "app.handler"
        assert "def handler(" in (code / "app.py").read_text(encoding="utf-8"), logical_id
        assert (code / "requirements.txt").exists(), logical_id


# ------------------------------------------------------------------------------------------------
# The link endpoint (nudge.endpoints, functions/endpoint/app.py)
# ------------------------------------------------------------------------------------------------
def test_the_link_endpoint_is_a_public_function_url_authorised_by_its_token(template):
    endpoint = props(template, "EndpointFunction")
    code = ROOT / endpoint["CodeUri"]
    # GIVEN the endpoint function THEN it is served by a Function URL with no IAM auth (mail clients
    # cannot sign requests; the HMAC token in every link is the authorization) ...
    assert endpoint["FunctionUrlConfig"]["AuthType"] == "NONE"
    skips = {s["id"]: s["comment"] for s in template["Resources"]["EndpointFunction"]["Metadata"]["checkov"]["skip"]}
    assert "token" in skips["CKV_AWS_258"]
    # ... its handler and requirements file exist, and it logs to its own log group
    assert endpoint["Handler"] == "app.handler" and "def handler(" in (code / "app.py").read_text(encoding="utf-8")
    assert (code / "requirements.txt").exists()
    assert endpoint["LoggingConfig"]["LogGroup"] == {"Ref": "EndpointLogGroup"}
    # AND the stack outputs its URL, and the generate function's links point at it
    assert template["Outputs"]["EndpointUrl"]["Value"] == {"Fn::GetAtt": ["EndpointFunctionUrl", "FunctionUrl"]}
    link_base = function_environment(template, "GenerateFunction")["NUDGE_LINK_BASE_URL"]
    assert {"Fn::GetAtt": ["EndpointFunctionUrl", "FunctionUrl"]} in link_base["Fn::If"]


def test_the_link_endpoint_may_only_resolve_pseudonyms_record_opt_outs_log_events_and_read_the_catalog(template):
    statements = [s for f, s in policy_statements(template) if f == "EndpointFunction"]
    by_action = {a: s for s in statements for a in as_list(s["Action"])}
    # GIVEN its statements THEN DynamoDB: GetItem on PSEUDO# items and UpdateItem on CUST# items only
    assert {a for a in by_action if a.startswith("dynamodb:")} == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    for action, prefix in (("dynamodb:GetItem", "PSEUDO#*"), ("dynamodb:UpdateItem", "CUST#*")):
        assert by_action[action]["Resource"] == arn_of("ProfileTable")
        assert by_action[action]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [prefix]}}
    # AND S3: put under events/, read under artifacts/catalog/, nothing else
    assert {a for a in by_action if a.startswith("s3:")} == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    assert by_action["s3:PutObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/events/*"}
    assert by_action["s3:GetObject"]["Resource"] == {"Fn::Sub": "${OutputBucket.Arn}/artifacts/catalog/*"}
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["artifacts/catalog/*"]}}
    # AND the keys secret, decrypted through Secrets Manager only
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == {"Ref": "KeysSecret"}
    assert "kms:ViaService" in by_action["kms:Decrypt"]["Condition"]["StringEquals"]
    environment = function_environment(template, "EndpointFunction")
    assert not {v for v in environment if v.startswith("NUDGE_")} - {var for var, *_ in VARIABLES.values()}
    assert {"NUDGE_OUTPUT_BUCKET", "NUDGE_PROFILE_TABLE", "NUDGE_ARTIFACTS_URI", "NUDGE_STORE_URL", "NUDGE_SECRET_ARN"} <= set(environment)
    assert "NUDGE_LINK_KEY" not in environment


def test_the_link_endpoint_has_alarms_on_errors_and_on_refused_tokens(template):
    errors, rejected = props(template, "EndpointErrorsAlarm"), props(template, "EndpointRejectionsAlarm")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "EndpointFunction"}}]
    # the custom metric functions/endpoint/app.py emits for every 4xx, under Powertools' service dimension
    assert (rejected["Namespace"], rejected["MetricName"]) == ("Nudge", "endpoint_rejected")
    assert rejected["Dimensions"] == [{"Name": "service", "Value": "nudge"}]
    assert "endpoint_rejected" in (ROOT / "functions" / "endpoint" / "app.py").read_text(encoding="utf-8")
    for alarm in (errors, rejected):
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}


# ------------------------------------------------------------------------------------------------
# What comes back: SES events, the event log's table (docs/LOOP.md)
# ------------------------------------------------------------------------------------------------
def test_ses_publishes_every_event_nudge_reads_to_the_default_bus_and_a_rule_queues_only_its_own(template):
    destination = props(template, "EmailEventsDestination")
    assert destination["ConfigurationSetName"] == {"Ref": "EmailEventsConfigurationSet"}
    events = destination["EventDestination"]
    assert events["Enabled"] is True
    assert set(events["MatchingEventTypes"]) == {"send", "reject", "bounce", "complaint", "delivery", "open", "click"}
    assert events["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(":event-bus/default")
    rule = props(template, "EmailEventsRule")
    assert rule["EventPattern"]["source"] == ["aws.ses"]
    assert rule["EventPattern"]["detail"]["mail"]["tags"]["ses:configuration-set"] == [{"Ref": "EmailEventsConfigurationSet"}]
    [target] = rule["Targets"]
    assert target["Arn"] == arn_of("EmailEventsQueue") and target["DeadLetterConfig"]["Arn"] == arn_of("EmailEventsDLQ")


def test_the_events_function_reads_its_queue_in_batches_with_a_dlq_and_an_alarm(template):
    [event] = [e for f, e in sqs_events(template) if f == "EventsFunction"]
    assert event["Queue"] == arn_of("EmailEventsQueue") and event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = props(template, "EmailEventsQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == arn_of("EmailEventsDLQ")
    timeout = function_setting(template, "EventsFunction", "Timeout")
    assert queue["VisibilityTimeout"] >= 6 * timeout + event.get("MaximumBatchingWindowInSeconds", 0)
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    assert any(a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["EmailEventsDLQ", "QueueName"]}
               for a in alarms if a["Properties"].get("Dimensions"))


def test_the_send_function_names_the_configuration_set_it_may_send_through(template):
    assert function_environment(template, "SendFunction")["NUDGE_SES_CONFIGURATION_SET"] == {"Ref": "EmailEventsConfigurationSet"}
    [send] = [s for f, s in policy_statements(template) if f == "SendFunction" and s.get("Sid") == "SendRawEmailFromTheIdentity"]
    assert any("configuration-set/${EmailEventsConfigurationSet}" in r["Fn::Sub"] for r in as_list(send["Resource"]))


def test_the_glue_table_has_the_columns_the_report_s_sql_reads_and_projects_every_partition(template):
    from nudge.eventlog import EVENT_TYPES
    from scripts.report import COLUMNS

    table = props(template, "EventsTable")["TableInput"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == list(COLUMNS)
    assert [k["Name"] for k in table["PartitionKeys"]] == ["type", "dt"]
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.type.values"].split(",") == list(EVENT_TYPES)
    assert parameters["storage.location.template"] == {"Fn::Sub": "s3://${OutputBucket}/events/type=${!type}/dt=${!dt}/"}
    work_group = props(template, "EventsWorkGroup")["WorkGroupConfiguration"]
    assert work_group["EnforceWorkGroupConfiguration"] is True
    assert work_group["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"


# ------------------------------------------------------------------------------------------------
# Planning at scale and triggered jobs (docs/ARCHITECTURE.md, "Planning at scale")
# ------------------------------------------------------------------------------------------------
def test_plans_run_as_a_state_machine_of_scan_segments_each_looping_until_done(template):
    # GIVEN the plan state machine's definition
    machine = props(template, "PlanStateMachine")
    states = machine["Definition"]["States"]
    # THEN it runs start -> a distributed Map over the start step's segments -> finish, all on the plan function
    assert machine["Definition"]["StartAt"] == "Start" and states["Start"]["Next"] == "Segments"
    assert states["Start"]["Parameters"]["Payload"]["mode"] == "start"
    assert states["Finish"]["Parameters"]["Payload"]["mode"] == "finish" and states["Finish"]["End"] is True
    segments = states["Segments"]
    assert segments["Type"] == "Map" and segments["ItemsPath"] == "$.segments" and segments["Next"] == "Finish"
    assert segments["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert segments["ItemSelector"]["mode"] == "segment" and segments["ItemSelector"]["segment.$"] == "$$.Map.Item.Value"
    assert segments["MaxConcurrency"] == "${PlanMaxConcurrency}"
    # AND each segment's task is invoked again while it answers "done": false, and retried from its checkpoint
    inner = segments["ItemProcessor"]["States"]
    assert inner["PlanSegment"]["Next"] == "SegmentDone"
    assert inner["SegmentDone"]["Choices"] == [{"Variable": "$.done", "BooleanEquals": False, "Next": "PlanSegment"}]
    assert inner["PlanSegment"]["Retry"][0]["ErrorEquals"] == ["States.ALL"]
    # AND the segment fields the Map passes are the ones the plan function reads
    from nudge.service import SEGMENT_FIELDS

    assert {k.removesuffix(".$") for k in segments["ItemSelector"]} == {"mode", "segment", *SEGMENT_FIELDS}
    substitutions = machine["DefinitionSubstitutions"]
    assert substitutions["PlanFunctionArn"] == {"Fn::GetAtt": ["PlanFunction", "Arn"]}
    assert template["Parameters"]["PlanSegments"]["Default"] == 16
    # AND it may invoke the plan function and run its own Map children, nothing else
    assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": "PlanFunction"}}} in machine["Policies"]
    statements = [st for p in machine["Policies"] if "Statement" in p for st in p["Statement"]]
    assert {a for st in statements for a in as_list(st["Action"])} == {
        "states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
    assert all("${AWS::StackName}-plan" in st["Resource"]["Fn::Sub"] for st in statements)


def test_triggered_jobs_have_their_own_queue_read_by_the_generate_function(template):
    # GIVEN the generate function's SQS event sources
    sources = {e["Properties"]["Queue"]["Fn::GetAtt"][0]: e["Properties"]
               for e in props(template, "GenerateFunction")["Events"].values() if e["Type"] == "SQS"}
    # THEN it reads the batch jobs and the triggered jobs, each with partial batch failures and a concurrency cap
    assert set(sources) == {"JobsQueue", "TriggersJobsQueue"}
    assert sources["TriggersJobsQueue"]["MaximumBatchingWindowInSeconds"] == 0
    assert all(s["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and s["ScalingConfig"]["MaximumConcurrency"]
               for s in sources.values())
    # AND the trigger queue redelivers as the jobs queue does, into the same DLQ
    jobs, triggers = props(template, "JobsQueue"), props(template, "TriggersJobsQueue")
    assert triggers["VisibilityTimeout"] == jobs["VisibilityTimeout"]
    assert triggers["RedrivePolicy"] == jobs["RedrivePolicy"]


def test_failed_plans_throttles_stale_queues_and_failing_functions_raise_alarms(template):
    alarms = of_type(template, "AWS::CloudWatch::Alarm")

    def watched(alarm: dict[str, Any]) -> set[tuple[str, str]]:
        p = alarm["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in p.get("Metrics", []) if "MetricStat" in m] or [p]
        return {(m["MetricName"], json.dumps(d["Value"], sort_keys=True)) for m in metrics for d in m.get("Dimensions", [])}

    seen = set().union(*(watched(a) for a in alarms.values()))
    ref = lambda logical_id: json.dumps({"Ref": logical_id})  # noqa: E731
    queue = lambda logical_id: json.dumps({"Fn::GetAtt": [logical_id, "QueueName"]})  # noqa: E731
    # THEN every function's errors and throttles are watched
    for function in ("GenerateFunction", "PlanFunction", "CartFunction", "SweepFunction", "EventsFunction", "EndpointFunction"):
        assert ("Errors", ref(function)) in seen, function
        assert ("Throttles", ref(function)) in seen, function
    # AND the age of the oldest job on both job queues, failed plans (the on-failure destination, and executions)
    assert ("ApproximateAgeOfOldestMessage", queue("JobsQueue")) in seen
    assert ("ApproximateAgeOfOldestMessage", queue("TriggersJobsQueue")) in seen
    assert ("ApproximateNumberOfMessagesVisible", queue("PlanFailuresQueue")) in seen
    assert ("ExecutionsFailed", ref("PlanStateMachine")) in seen
    destination = props(template, "PlanFunction")["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert destination == {"Type": "SQS", "Destination": arn_of("PlanFailuresQueue")}
    # AND a sweep failure alarms only when the next run fails too (one failure heals itself)
    assert alarms["SweepErrorsAlarm"]["Properties"]["EvaluationPeriods"] == 2


def test_generate_has_ephemeral_storage_for_the_artifacts_it_downloads(template):
    # GIVEN the generate function, which downloads the recommender and catalog artifacts to /tmp
    storage = function_setting(template, "GenerateFunction", "EphemeralStorage")
    parameter = template["Parameters"]["GenerateEphemeralStorageMB"]
    # THEN /tmp is a parameter sized for ~500k items by default, within Lambda's 512-10240 MB
    assert storage == {"Size": {"Ref": "GenerateEphemeralStorageMB"}}
    assert parameter["MinValue"] == 512 and parameter["MaxValue"] == 10240 and parameter["Default"] >= 1024
