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


def test_opt_outs_are_set_in_place_idempotently_and_round_trip(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    # GIVEN the tiny store's profiles in the table
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    first, later = datetime(2026, 11, 20, 10, tzinfo=timezone.utc), datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
    # WHEN c001 opts out of clearance twice (a replayed request), then of loyalty, then of everything twice
    assert store.opt_out("c001", now=first, campaign_type="clearance") == first.isoformat()
    assert store.opt_out("c001", now=later, campaign_type="clearance") == first.isoformat()  # the first time, kept
    assert store.opt_out("c001", now=later, campaign_type="loyalty") == later.isoformat()
    assert store.opt_out("c001", now=first + timedelta(hours=1), campaign_type=None) == (first + timedelta(hours=1)).isoformat()
    assert store.opt_out("c001", now=later, campaign_type=None) == (first + timedelta(hours=1)).isoformat()
    # THEN the profile says so (a string set, no duplicate), and the rest of it is untouched
    profile = store.get_profile("c001")
    assert profile.opted_out is True and profile.opted_out_campaigns == ["clearance", "loyalty"]
    assert profile.opted_out_of("win_back") and profile.purchased == tiny_profiles["c001"].purchased
    # AND a customer without a profile (erased) is never re-created
    assert store.opt_out("c999", now=first) is None and store.get_profile("c999") is None
    # AND the fields round-trip through put_profiles / get_profiles
    store.put_profiles([profile])
    assert store.get_profile("c001") == profile


def test_republishing_profiles_never_resubscribes_anyone(aws, tiny_profiles):
    from datetime import datetime, timezone

    from nudge_local.stack import create_stack

    # GIVEN published profiles, then c001 unsubscribed, c002 stopped clearance and c004 was suppressed
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    store.opt_out("c001", now=now)
    store.opt_out("c002", now=now, campaign_type="clearance")
    store.set_suppressed("c004", "complaint")
    # WHEN the store's profiles are published again (its view knows nothing of that)
    store.put_profiles(tiny_profiles.values())
    # THEN every opt-out and suppression is still there, and the rest is the store's view
    loaded = store.get_profiles(list(tiny_profiles))
    assert loaded["c001"].opted_out and loaded["c002"].opted_out_campaigns == ["clearance"] and loaded["c004"].suppressed
    assert not loaded["c005"].opted_out and not loaded["c005"].suppressed
    assert loaded["c001"].purchased == tiny_profiles["c001"].purchased
    # AND a later opt-out still finds its first time kept
    assert store.opt_out("c001", now=datetime(2026, 12, 1, tzinfo=timezone.utc)) == now.isoformat()


def test_suppressing_an_erased_customer_writes_nothing(aws, tiny_profiles):
    from nudge_local.stack import create_stack

    # GIVEN a published customer who was then erased on request
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    store.delete_customer("c004")
    # WHEN a late complaint for them arrives THEN nothing is written (no stub profile) and it says so
    assert store.set_suppressed("c004", "complaint") is False
    assert store.get_profile("c004") is None
    # AND a customer still there is suppressed
    assert store.set_suppressed("c005", "complaint") is True and store.get_profile("c005").suppressed
