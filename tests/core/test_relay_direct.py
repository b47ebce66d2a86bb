"""The relay function end to end in direct mode (no BIGTECH_BUS_URL, the embedded default): outbox rows in tenant
databases reach subscriber functions through executions, exactly once in effect, with retries, dead letters and the
ops task's replay kept in the tenants' `deliveries` tables."""

from __future__ import annotations

import pytest

from bigtech.bus import EventEnvelope
from bigtech.bus import ops as bus_ops
from tests.support.bus_fakes import make_events
from tests.support.relay_stack import SubscriberSpec, relay_world

TENANTS = ("ta", "tb", "tc")
BILLING = ("payment.*", "order.#", "credits.*", "consulta.*", "tenant.*")


@pytest.mark.slow
def test_thousand_events_over_three_tenants_reach_two_subscribers_exactly_once(tmp_path):
    subscribers = {"sub-audit": SubscriberSpec(("#",)), "sub-billing": SubscriberSpec(BILLING)}
    with relay_world(tmp_path, subscribers, relay_events=False) as world:
        world.add_tenants(TENANTS)
        events = make_events(1000, tenants=TENANTS)
        world.stage_in_bulk(events)
        assert world.outbox_statuses()["pending"] == 1000

        first = world.run_relay(TENANTS[0])
        assert first["ok"] and first["mode"] == "direct"
        # every row of tenant ta, or as many as the run's budget allowed on a loaded machine (the runs
        # below take the rest): only that tenant is visited
        assert 0 < first["published"] <= sum(1 for e in events if e.tenant_id == TENANTS[0])
        assert f"relay mode=direct tenant=ta published={first['published']}" in first["logs"]

        # Two runs over every tenant at once: the claims keep them from delivering the same row twice.
        reports = world.run_relays_at_once(2)
        assert all(r["ok"] for r in reports), reports
        world.run_until_quiet()

        assert world.outbox_statuses() == {"pending": 0, "published": 1000, "dead": 0}
        world.assert_exactly_once(events, subscribers)
        assert sum(r["duplicates"] for r in [first, *reports]) == 0  # no row was even sent twice


def test_event_trigger_and_schedule_trigger(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}) as world:
        world.add_tenants(TENANTS)
        event = EventEnvelope(type="payment.confirmed", tenant_id="tb", data={"order": "o1"})
        world.stage_one(event)  # the outbox row-create event runs the relay for tenant tb
        runs = world.wait_for_relay_executions(1)
        assert len(runs) == 1 and runs[0].responsestatuscode == 200
        assert "relay mode=direct tenant=tb published=1" in runs[0].logs and "delivered=1" in runs[0].logs
        world.assert_exactly_once([event], ["sub-audit"])

        # Rows committed without an event (a transaction's bulk operation) wait for the one-minute schedule.
        later = make_events(6, tenants=TENANTS)
        world.stage_in_bulk(later)
        scheduled = world.run_schedule()
        assert scheduled["ok"] and scheduled["published"] == 6 and scheduled["delivered"] == 6
        assert "tenant=* published=6" in scheduled["logs"] and "trigger=schedule" in scheduled["logs"]
        world.assert_exactly_once([event, *later], ["sub-audit"])


def test_subscriber_failing_three_times_then_succeeding_gets_the_event_once(tmp_path):
    subscribers = {"sub-flaky": SubscriberSpec(("payment.*",), {"BUS_TEST_FAIL_FIRST": "3"}),
                   "sub-steady": SubscriberSpec(("payment.*",))}
    with relay_world(tmp_path, subscribers, relay_events=False) as world:
        world.add_tenants(["ta"])
        event = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_in_bulk([event])
        reports = [world.run_relay() for _ in range(4)]
        assert [r["failed"] for r in reports] == [1, 1, 1, 0]
        assert [r["delivered"] for r in reports] == [1, 0, 0, 1]
        assert [r["published"] for r in reports] == [0, 0, 0, 1]  # pending until every subscriber has it
        assert "sub-flaky/events answered 503" in reports[0]["errors"][0]
        world.assert_exactly_once([event], subscribers)
        assert world.attempts("sub-flaky", event.id, "ta") == 4


def test_always_failing_subscriber_is_dead_lettered_and_the_replay_task_resends_it(tmp_path, capsys):
    subscribers = {"sub-broken": SubscriberSpec(("order.created",), {"BUS_TEST_BROKEN": "1"}),
                   "sub-other": SubscriberSpec(("#",))}
    with relay_world(tmp_path, subscribers, relay_events=False,
                     relay_variables={"BIGTECH_BUS_DELIVERY_LIMIT": "3"}) as world:
        world.add_tenants(["ta", "tb"])
        doomed = EventEnvelope(type="order.created", tenant_id="tb", data={"n": 1})
        world.stage_in_bulk([doomed])
        reports = [world.run_relay() for _ in range(3)]
        assert [r["failed"] for r in reports] == [1, 1, 0]
        assert [r["dead_lettered"] for r in reports] == [0, 0, 1]
        assert "dead_lettered=1" in reports[2]["logs"]
        assert world.outbox_statuses()["published"] == 1  # handled: delivered, or dead where it could not be
        world.assert_exactly_once([doomed], ["sub-other"])

        cli = ["--url", "direct", "--endpoint", world.stack.endpoint, "--project", world.stack.settings.project_id,
               "--key", world.stack.settings.api_key]
        assert bus_ops.main(["status", "sub-broken", *cli]) == 0
        status = capsys.readouterr().out
        assert "direct mode" in status and "dead=     1" in status
        assert f"dead: sub-broken {doomed.id} type=order.created tenant=tb attempts=3" in status
        assert "sub-broken is broken (attempt 3)" in status

        world.set_variables("sub-broken", BUS_TEST_BROKEN="0")  # fixed
        assert bus_ops.main(["replay", "sub-broken", *cli]) == 0
        assert "sub-broken: replayed 1" in capsys.readouterr().out
        after = world.run_relay()
        assert after["delivered"] == 1 and after["published"] == 1, after
        world.assert_exactly_once([doomed], subscribers)  # the replay went to sub-broken only
        assert bus_ops.main(["status", "sub-broken", *cli]) == 0
        assert "dead=     0" in capsys.readouterr().out


def test_a_row_that_is_not_an_event_is_set_aside(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(["ta"])
        good = EventEnvelope(type="tenant.created", tenant_id="ta")
        world.stage_in_bulk([good])
        world.tables.create_row("tenant_ta", "outbox", "bad1", {
            "type": "Not A Type", "tenant_id": "ta", "occurred_at": "2025-01-01T00:00:00.000+00:00",
            "payload": "{}", "status": "pending"})
        report = world.run_relay()
        assert report["ok"] and report["published"] == 1 and report["delivered"] == 1
        bad = next(r for r in world.outbox_rows("ta") if r["$id"] == "bad1")
        assert bad["status"] == "dead" and "not an event envelope" in bad["last_error"]


# -- the pending markers: the schedule visits only tenants with work --------------------------------------------

def markers(world) -> dict[str, str]:
    from appwrite.query import Query

    rows = world.tables.list_rows("core", "outbox_pending", [Query.limit(100)]).rows
    return {row.id: row.data["tenant_id"] for row in rows}


def calls_during(world, action) -> tuple[list[str], object]:
    """The API calls the relay made (inside its execution) while ``action`` ran."""
    return world.calls_by("relay", action)


def test_an_idle_schedule_reads_one_marker_page_whatever_the_number_of_tenants(tmp_path):
    tenants = [f"idle{n:02d}" for n in range(12)]
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(tenants)
        calls, report = calls_during(world, world.run_schedule)
        assert report["ok"] and report["published"] == 0 and report["pending_left"] == 0
        assert calls == ["GET /v1/tablesdb/core/tables/outbox_pending/rows"], calls


def test_the_schedule_visits_only_marked_tenants_and_clears_their_markers(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(TENANTS)
        events = make_events(5, tenants=["tb"])
        world.stage_in_bulk(events)
        assert markers(world) == {e.id: "tb" for e in events}  # written with the rows, in one transaction
        calls, report = calls_during(world, world.run_schedule)
        assert report["ok"] and report["published"] == 5 and report["delivered"] == 5
        assert not [c for c in calls if "/tenant_ta/" in c or "/tenant_tc/" in c], calls
        assert markers(world) == {}
        world.assert_exactly_once(events, ["sub-audit"])


def test_a_failing_delivery_keeps_the_marker_until_the_row_is_settled(tmp_path):
    subscribers = {"sub-flaky": SubscriberSpec(("payment.*",), {"BUS_TEST_FAIL_FIRST": "1"})}
    with relay_world(tmp_path, subscribers, relay_events=False) as world:
        world.add_tenants(["ta"])
        event = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_in_bulk([event])
        first = world.run_schedule()
        assert first["failed"] == 1 and first["published"] == 0
        assert markers(world) == {event.id: "ta"}  # still pending: the next schedule comes back
        second = world.run_schedule()
        assert second["delivered"] == 1 and second["published"] == 1
        assert markers(world) == {}
        world.assert_exactly_once([event], subscribers)


def test_an_event_run_handles_the_row_it_was_fired_for(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}) as world:
        world.add_tenants(["ta"])
        waiting = make_events(3, tenants=["ta"])
        world.stage_in_bulk(waiting)  # no row-create events: these wait for the schedule
        fired = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_one(fired)
        runs = world.wait_for_relay_executions(1)
        assert "tenant=ta published=1 " in runs[0].logs, runs[0].logs
        assert "pending_left" not in runs[0].logs  # an event run counts nothing (informational only)
        # an event run leaves its row's marker to the next sweep, which finds the row published and clears it
        assert set(markers(world)) == {e.id for e in [fired, *waiting]}
        scheduled = world.run_schedule()
        assert scheduled["published"] == 3 and markers(world) == {}
        world.assert_exactly_once([fired, *waiting], ["sub-audit"])


# -- event runs: the row from the event's body, one claim, one mark ----------------------------------------------

CLAIM = "PATCH /v1/tablesdb/tenant_ta/tables/outbox/rows/{}/claim_seq/increment"
MARK = "PATCH /v1/tablesdb/tenant_ta/tables/outbox/rows"


def test_an_event_run_costs_one_claim_one_delivery_and_one_mark(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(["ta"])
        first, second = (EventEnvelope(type="consulta.completed", tenant_id="ta", data={"n": n}) for n in (1, 2))
        world.stage_one(first)
        warm = world.fire_event(world.raw_row("ta", first.id))  # reads the registry (then kept for a TTL)
        assert warm["published"] == 1 and warm["delivered"] == 1
        world.stage_one(second)
        calls, report = world.calls_by("relay", lambda: world.fire_event(world.raw_row("ta", second.id)))
        assert report["ok"] and report["published"] == 1 and report["delivered"] == 1, report
        assert report["pending_left"] is None
        assert calls == [CLAIM.format(second.id), "POST /v1/functions/sub-audit/executions", MARK], calls
        world.assert_exactly_once([first, second], ["sub-audit"])


def test_an_event_run_for_an_already_published_row_does_nothing(tmp_path):
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(["ta"])
        event = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_one(event)
        as_created = world.raw_row("ta", event.id)  # the body of its row-create event: claim_seq 0, pending
        assert world.run_schedule()["published"] == 1
        calls, again = world.calls_by("relay", lambda: world.fire_event(as_created))  # the event, late
        assert again["ok"] and again["published"] == 0 and again["delivered"] == 0, again
        assert calls == [CLAIM.format(event.id)], calls  # the bounded increment refuses: nothing else
        # a body that already shows a claim costs nothing at all
        calls, stale = world.calls_by("relay", lambda: world.fire_event(world.raw_row("ta", event.id)))
        assert stale["published"] == 0 and calls == [], calls
        world.assert_exactly_once([event], ["sub-audit"])


def test_an_event_run_and_the_schedule_racing_for_rows_publish_each_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(["ta"])
        events = [EventEnvelope(type="payment.confirmed", tenant_id="ta", data={"n": n}) for n in range(4)]
        reports = []
        for event in events:
            world.stage_one(event)
            body = world.raw_row("ta", event.id)
            with ThreadPoolExecutor(2) as pool:  # the row's event run and a schedule, at once
                racing = [pool.submit(world.fire_event, body), pool.submit(world.run_schedule)]
                reports += [r.result() for r in racing]
        assert all(r["ok"] for r in reports), reports
        assert sum(r["published"] for r in reports) == len(events)
        assert sum(r["duplicates"] for r in reports) == 0  # no row was even sent twice
        world.assert_exactly_once(events, ["sub-audit"])
        world.run_schedule()  # the markers the event runs left
        assert markers(world) == {} and world.outbox_statuses()["pending"] == 0


def test_a_row_whose_event_run_died_after_claiming_goes_to_the_schedule_after_the_grace(tmp_path):
    import time

    grace = 4.0
    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False,
                     relay_variables={"BIGTECH_RELAY_EVENT_GRACE": str(grace)}) as world:
        world.add_tenants(["ta"])
        event = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_one(event)
        # exactly the claim an event run makes (claim_seq 0 -> 1, no lease), and then the run dies
        world.tables.increment_row_column("tenant_ta", "outbox", event.id, "claim_seq", 1, max=1)
        claimed_at = time.monotonic()
        held = world.run_schedule()
        assert time.monotonic() - claimed_at < grace, "too slow to see the grace: rerun on a quieter machine"
        assert held["ok"] and held["published"] == 0 and held["delivered"] == 0, held
        assert markers(world) == {event.id: "ta"}  # still pending: the schedule comes back
        time.sleep(max(0.0, grace + 0.5 - (time.monotonic() - claimed_at)))
        taken = world.run_schedule()
        assert taken["published"] == 1 and taken["delivered"] == 1, taken
        assert markers(world) == {}
        world.assert_exactly_once([event], ["sub-audit"])


def test_a_business_transaction_writes_the_marker_with_the_row(tmp_path):
    from appwrite.exception import AppwriteException

    from bigtech import uow
    from bigtech.outbox_writer import stage_event

    with relay_world(tmp_path, {"sub-audit": SubscriberSpec(("#",))}, relay_events=False) as world:
        world.add_tenants(["ta"])
        staged = uow.run(world.tables, lambda unit: stage_event(unit, "order.created", "ta", {"n": 1}))
        assert markers(world) == {staged.id: "ta"}

        def doomed(unit):  # the same event id again: the commit fails, and writes neither row nor marker
            stage_event(unit, "order.created", "ta", {"n": 2})
            unit.create("tenant_ta", "outbox", staged.id, {"type": "x", "tenant_id": "ta"})

        with pytest.raises(AppwriteException):
            uow.run(world.tables, doomed)
        assert markers(world) == {staged.id: "ta"}
