"""A moto server on loopback and the stack's resources created in it, mirroring template.yaml
(queue with SSE and a DLQ redrive policy, encrypted versioned bucket with public access blocked,
on-demand table with PITR)."""

from __future__ import annotations

import functools
import json
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass(frozen=True)
class StackNames:
    bucket: str = "nudge-local-output"
    table: str = "nudge-local-profiles"
    queue: str = "nudge-local-jobs"
    dlq: str = "nudge-local-jobs-dlq"
    triggers_queue: str = "nudge-local-trigger-jobs"


@dataclass(frozen=True)
class Stack:
    bucket: str
    table: str
    queue_url: str
    dlq_url: str
    max_receive_count: int
    visibility_timeout: int
    triggers_queue_url: str = ""  # TriggersJobsQueue: the cart sweep's reminders (dead letters go to the same DLQ)


def function_env(
    stack: Stack, *, store: Any, model_dir: str, pseudonym_key: str, link_key: str, **extra: str
) -> dict[str, str]:
    """The environment the deployed functions get from template.yaml, pointed at this stack:
    what the local runner and the tests set before importing a handler. `store` is a StoreInfo;
    `extra` adds or overrides variables (e.g. NUDGE_HOLDOUT_SHARE)."""
    return {
        "NUDGE_OUTPUT_BUCKET": stack.bucket,
        "NUDGE_PROFILE_TABLE": stack.table,
        "NUDGE_JOBS_QUEUE_URL": stack.queue_url,
        "NUDGE_TRIGGERS_QUEUE_URL": stack.triggers_queue_url,
        "NUDGE_ARTIFACTS_URI": f"s3://{stack.bucket}/artifacts/",
        "NUDGE_MODEL_DIR": model_dir,
        "NUDGE_STORE_NAME": store.name,
        "NUDGE_STORE_ADDRESS": store.postal_address,
        "NUDGE_STORE_URL": store.base_url,
        "NUDGE_SENDER": store.sender,
        "NUDGE_PSEUDONYM_KEY": pseudonym_key,
        "NUDGE_LINK_KEY": link_key,
        "NUDGE_PLAN_PAGE_SIZE": "200",  # moto serializes each returned item slowly: a 1,000-item page can outlast botocore's read timeout on a busy machine
        "POWERTOOLS_SERVICE_NAME": "nudge",
        "POWERTOOLS_METRICS_NAMESPACE": "Nudge",
        **extra,
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _AtomicDynamoDB:
    """WSGI middleware: one DynamoDB request at a time. moto evaluates a condition and then writes,
    so two concurrent conditional writes (two consumer processes claiming the same item) could both
    pass, which real DynamoDB never allows: a conditional write is atomic per item. Serialising
    moto's DynamoDB requests restores that; S3 and SQS requests still run concurrently."""

    def __init__(self, app: Any) -> None:
        import threading

        # SQS too: moto's ReceiveMessage is not safe against itself (two consumers receiving at once
        # can fail with a 500 inside moto), which real SQS is.
        self.app, self.locks = app, {"DynamoDB_": threading.Lock(), "AmazonSQS.": threading.Lock()}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        lock = next((lock for prefix, lock in self.locks.items() if target.startswith(prefix)), None)
        if lock is None:
            return self.app(environ, start_response)
        with lock:
            return list(self.app(environ, start_response))  # the whole response inside the lock


def _threaded_server(port: int) -> Any:
    """moto's ThreadedMotoServer with DynamoDB requests made atomic (_AtomicDynamoDB)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address="127.0.0.1", port=port, verbose=False)


def _serve(port: int) -> None:
    """Run the moto server in this process until it is terminated (moto_server(separate_process=True))."""
    import logging
    import threading

    import time

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    _threaded_server(port).start()
    while os.getppid() == parent:  # the caller died without stopping it (killed): go too
        time.sleep(1)


class _ServerProcess:
    """moto's server in a child process, so its CPU is not the caller's (scripts/cost.py times
    handlers by their own process's CPU)."""

    def __init__(self, port: int) -> None:
        import subprocess
        import sys
        import time

        path = os.pathsep.join(p for p in sys.path if p)
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module function
            [sys.executable, "-c", f"from nudge_local.stack import _serve; _serve({int(port)})"],
            env={**os.environ, "PYTHONPATH": path},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the moto server process did not start on port {port}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a server that ignores SIGTERM is killed
            self.process.kill()


@contextmanager
def moto_server(port: int | None = None, *, separate_process: bool = False) -> Iterator[str]:
    """Start a moto server on 127.0.0.1 and point boto3 at it (AWS_ENDPOINT_URL) while open. Other
    processes (the load test's consumers) reach the same server through AWS_ENDPOINT_URL. With
    `separate_process`, the server runs in a child process (its CPU is then not this process's)."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log per call on the console
    port = port or _free_port()
    if separate_process:
        server: Any = _ServerProcess(port)
    else:
        server = _threaded_server(port)
        server.start()
    endpoint = f"http://127.0.0.1:{port}"
    _reset(endpoint)  # moto's state lives in the process: a second server would see the first's
    saved = {k: os.environ.get(k) for k in (*LOCAL_ENV, "AWS_ENDPOINT_URL")}
    os.environ.update(LOCAL_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _reset(endpoint: str) -> None:
    """Empty every moto backend (moto's own reset API on the server)."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        response.read()


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short tags (!Ref, !Sub, ...) as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def queue_settings(template: dict[str, Any] | None = None) -> tuple[int, int]:
    """(maxReceiveCount, VisibilityTimeout) of the jobs queue, read from template.yaml so the
    local runner redelivers exactly as the deployed queue would."""
    if template is None:
        try:
            return _template_queue_settings(TEMPLATE, TEMPLATE.stat().st_mtime_ns)
        except FileNotFoundError:
            return 3, 720
    return _queue_settings(template)


@functools.lru_cache(maxsize=4)
def _template_queue_settings(path: Path, mtime_ns: int) -> tuple[int, int]:
    """Parsing template.yaml takes ~0.5 s (and every test's stack creates queues): once per file version."""
    return _queue_settings(load_template(path))


def _queue_settings(template: dict[str, Any]) -> tuple[int, int]:
    try:
        props = template["Resources"]["JobsQueue"]["Properties"]
        max_receive = int(props["RedrivePolicy"]["maxReceiveCount"])
        visibility = props.get("VisibilityTimeout", 720)
        return max_receive, int(visibility) if not isinstance(visibility, dict) else 720
    except (FileNotFoundError, KeyError, TypeError, ValueError):
        return 3, 720


def create_stack(names: StackNames = StackNames(), *, visibility_timeout: int | None = None) -> Stack:
    """Create the bucket, table and queues in the (moto) account that boto3 points at.
    `visibility_timeout` overrides the template's (the crash runs use seconds, so that a killed
    consumer's messages really come back within the run)."""
    from nudge.storage import client

    max_receive, visibility = queue_settings()
    visibility = visibility_timeout if visibility_timeout is not None else visibility
    s3 = client("s3")
    s3.create_bucket(Bucket=names.bucket)
    s3.put_bucket_encryption(
        Bucket=names.bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )
    s3.put_public_access_block(
        Bucket=names.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})

    ddb = client("dynamodb")
    ddb.create_table(
        TableName=names.table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
    )
    ddb.update_continuous_backups(
        TableName=names.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )

    sqs = client("sqs")
    dlq_url = sqs.create_queue(
        QueueName=names.dlq, Attributes={"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        "VisibilityTimeout": str(visibility),
        "SqsManagedSseEnabled": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
    }
    queue_url = sqs.create_queue(QueueName=names.queue, Attributes=attributes)["QueueUrl"]
    # Reminders have their own queue (template.yaml's TriggersJobsQueue: same timeout, same DLQ), so a
    # cart reminder never waits behind a batch campaign; the generate function reads both.
    triggers_url = sqs.create_queue(QueueName=names.triggers_queue, Attributes=attributes)["QueueUrl"]
    return Stack(names.bucket, names.table, queue_url, dlq_url, max_receive, visibility, triggers_url)
