"""The local runner's stack: two moto servers in one process start empty (moto keeps its state
in the process, so a second run must not find the first run's table)."""

from nudge_local.stack import create_stack, moto_server


def test_each_local_server_starts_with_an_empty_account():
    from nudge.storage import client

    with moto_server():
        create_stack()
        client("sqs").send_message(QueueUrl=client("sqs").get_queue_url(QueueName="nudge-local-jobs")["QueueUrl"], MessageBody="x")
    with moto_server():
        stack = create_stack()  # would raise ResourceInUseException without the reset
        assert client("dynamodb").scan(TableName=stack.table)["Items"] == []
