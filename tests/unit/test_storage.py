"""The storage adapter: partial SendMessageBatch failures are retried; profiles round-trip."""

from __future__ import annotations

from datetime import date

from nudge.jobs import Job
from nudge.storage import JobQueue, ProfileStore


class FlakySqs:
    """Fails the first entry of every batch once (a throttled entry), then accepts it."""

    def __init__(self):
        self.calls, self.failed_once = [], set()

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append([e["Id"] for e in Entries])
        ok, failed = [], []
        for entry in Entries:
            key = entry["MessageBody"]
            if key not in self.failed_once and entry is Entries[0]:
                self.failed_once.add(key)
                failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "ThrottlingException", "Message": "slow down"})
            else:
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}


def jobs(n):
    return [Job(campaign_id="c", campaign_type="loyalty", customer_id=f"c{i}", send_date=date(2026, 11, 20)) for i in range(n)]


def test_partial_batch_failures_are_retried_until_sent(monkeypatch):
    monkeypatch.setattr("nudge.storage.time.sleep", lambda s: None)
    # GIVEN a queue that throttles one entry per batch once
    sqs = FlakySqs()
    queue = JobQueue("https://sqs.local/q", sqs=sqs)
    # WHEN 25 jobs are sent
    sent = queue.send(jobs(25))
    # THEN all 25 arrive, in batches of at most 10, the throttled entries on a second call
    assert sent == 25 and queue.failed == []
    assert all(len(call) <= 10 for call in sqs.calls)
    assert len(sqs.calls) == 6  # 3 batches, each retried once for its throttled entry


def test_sender_fault_is_reported_not_retried(monkeypatch):
    monkeypatch.setattr("nudge.storage.time.sleep", lambda s: None)

    class BadSqs:
        def send_message_batch(self, QueueUrl, Entries):
            return {"Successful": [], "Failed": [{"Id": e["Id"], "SenderFault": True, "Code": "InvalidMessageContents", "Message": "bad"} for e in Entries]}

    queue = JobQueue("https://sqs.local/q", sqs=BadSqs())
    assert queue.send(jobs(3)) == 0
    assert len(queue.failed) == 3 and "InvalidMessageContents" in queue.failed[0]


def test_profiles_round_trip_through_dynamodb(aws, tiny_profiles):
    from nudge_local.stack import create_stack

    stack = create_stack()
    store = ProfileStore(stack.table)
    store.put_profiles(tiny_profiles.values())
    loaded = store.get_profiles(list(tiny_profiles))
    assert loaded == tiny_profiles
    assert sorted(p.customer.customer_id for p in store.scan_profiles(page_size=2)) == sorted(tiny_profiles)


def test_claim_send_is_once_per_campaign_and_customer(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert store.claim_send("c001", "camp", now=now, token="a") == "claimed"
    assert store.claim_send("c001", "camp", now=now, token="a") == "claimed"  # our own lost response
    assert store.claim_send("c001", "camp", now=now, token="b") == "busy"  # in progress elsewhere
    assert store.claim_send("c001", "camp", now=now + timedelta(hours=1), token="b") == "claimed"  # lease expired
    store.mark_sent("c001", "camp", now=now)
    assert store.claim_send("c001", "camp", now=now + timedelta(days=2), token="c") == "done"  # never again
    assert store.get_profile("c001").last_marketing_sent_at == now
