"""Exactly once under real crashes (issue 13, part 2): several consumer processes against a moto
server, SIGKILLed mid-write, with short leases and visibility timeouts so that redelivery after
expiry really happens, and overlapping campaigns plus the cart sweep against the frequency cap.
The long versions run in `make load` (scripts/load_test.py → build/reports/reliability.json)."""

from __future__ import annotations

from nudge.types import StoreInfo
from nudge_local.consumers import ChaosConfig, Scenario, run_scenario

CONSENTING = ["c001", "c002", "c004", "c005", "c006"]
STORE = StoreInfo(name="Hearth & Thread", postal_address="12 Example Street, Bristol BS1 4XX, United Kingdom",
                  base_url="https://shop.example.com", sender="Hearth & Thread <news@shop.example.com>")


def exact(result: dict) -> None:
    """The bar of every run: nothing lost, nothing twice, the cap kept, every record matching its .eml."""
    assert result["gave_up"] is False, result
    assert (result["lost"], result["duplicates"], result["cap_violations"], result["record_mismatches"]) == (0, 0, 0, 0), result
    assert result["dead_letters"] == 0 and result["orphan_objects"] == 0, result


def test_consumers_killed_mid_write_and_timed_out_lose_and_duplicate_nothing(tiny_profiles, tiny_artifacts, tmp_path):
    # GIVEN 15 jobs, two consumer processes, a 3 s function timeout, a 4 s lease, a 5 s visibility timeout,
    # and three faults: SIGKILL just after a claim, SIGKILL after the .eml is written but before the
    # claim is completed, and an invocation hung past its timeout (the watchdog SIGKILLs it)
    jobs = [(c, t) for c in CONSENTING for t in ("new_arrivals", "loyalty", "win_back")]
    scenario = Scenario("kill", jobs, ChaosConfig(workers=2, batch_size=5, timeout_s=3, kills={"claimed": 1, "written": 1},
                                                  stalls={"written": 1}, arm_every_s=0.5, max_seconds=100),
                        lease_s=4, visibility_s=5, cap_days=0)
    # WHEN the queue is drained
    result = run_scenario(scenario, profiles=tiny_profiles, artifacts_dir=tiny_artifacts, run_dir=tmp_path, store=STORE)
    # THEN the faults happened, the killed attempts' jobs came back after the lease, and every
    # job has exactly one completed email whose record describes the .eml stored for it
    # (the hung invocation is the injected timeout; on a busy machine the watchdog may also kill a
    # slow, healthy batch, which is one more crash to survive, counted apart as "slow")
    assert result["kills"] == {"claimed": 1, "written": 1} and result["timeouts_by_cause"]["stalled"] == 1, result
    assert result["observed"]["lease_takeovers"] >= 1 and result["observed"]["redelivered_records"] >= 1, result
    exact(result)
    assert result["emails_out"] == len(jobs) and result["eml_rewrites"] >= 1, result


def test_overlapping_campaigns_and_the_cart_sweep_keep_the_frequency_cap(tiny_profiles, tiny_artifacts, tmp_path):
    # GIVEN four campaigns for the same five customers queued at once (the plan-time check saw no
    # email yet), a 7-day cap, and abandoned carts swept into reminders while the campaigns drain
    jobs = [(c, t) for t in ("new_arrivals", "loyalty", "win_back", "clearance") for c in CONSENTING]
    scenario = Scenario("overlap", jobs, ChaosConfig(workers=2, batch_size=4, timeout_s=3, kills={"written": 1}, max_seconds=100),
                        lease_s=4, visibility_s=5, cap_days=7, carts=["c001", "c002", "c005"], sweep_after_s=0.5)
    # WHEN two consumers drain them
    result = run_scenario(scenario, profiles=tiny_profiles, artifacts_dir=tiny_artifacts, run_dir=tmp_path, store=STORE)
    # THEN each customer got exactly one email, every other job was refused by the cap at claim time
    exact(result)
    assert result["emails_out"] == len(CONSENTING), result
    assert result["skipped"].get("frequency_cap", 0) >= len(jobs) - len(CONSENTING), result
    assert result["cart_sweep"].get("enqueued", 0) + result["cart_sweep"].get("frequency_capped", 0) == 3, result
