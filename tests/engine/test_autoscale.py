"""The autoscaling decision: pure, driven sample by sample."""

from __future__ import annotations

import pytest

from ottermq.worker.autoscale import LoadSample, ScalePolicy, ScaleState, decide, parse_processes

POLICY = ScalePolicy(minimum=1, maximum=8, concurrency=4, target_wait_ms=2_000, up_after_ms=2_000,
                     down_after_ms=10_000, cooldown_ms=5_000)


def feed(current: int, samples: list[LoadSample], policy: ScalePolicy = POLICY,
         state: ScaleState | None = None) -> tuple[list[int], ScaleState]:
    """The process count after each sample, applying each decision as the supervisor does."""
    state = state or ScaleState()
    counts = []
    for sample in samples:
        decision = decide(current, sample, state, policy)
        current, state = decision.target, decision.state
        counts.append(current)
    return counts, state


def busy(at_s: float, backlog: int, in_flight: int, finished: int) -> LoadSample:
    return LoadSample(at_ms=int(at_s * 1000), backlog=backlog, in_flight=in_flight, finished=finished)


@pytest.mark.parametrize(("text", "expected"), [("3", (3, 3)), ("auto", (1, 6)), ("AUTO", (1, 6)), ("2:5", (2, 5)),
                                                ("1:1", (1, 1))])
def test_parse_processes(text: str, expected: tuple[int, int]) -> None:
    assert parse_processes(text, cpu_count=6) == expected


@pytest.mark.parametrize("text", ["0", "-1", "3:2", "0:4", "many", "1:", ":3", "1:2:3"])
def test_parse_processes_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="processes|MIN"):
        parse_processes(text, cpu_count=4)


def test_scales_up_only_after_pressure_lasts() -> None:
    # 1 process x 4 slots, all busy, 1,000 waiting, 100 finished per second: a 10 s wait.
    samples = [busy(t, 1000, 4, 100 * t) for t in (0, 1, 2, 3)]
    counts, _ = feed(1, samples)
    assert counts == [1, 1, 2, 2]  # at t=2 pressure has lasted up_after (2 s); then the cooldown holds


def test_scale_up_grows_with_the_expected_wait_but_at_most_doubles() -> None:
    samples = [busy(t, 100_000, 16, 100 * t) for t in (0, 1, 2)]
    counts, _ = feed(4, samples)
    assert counts == [4, 4, 8]


def test_scale_up_is_capped_by_the_maximum() -> None:
    policy = ScalePolicy(minimum=1, maximum=3, concurrency=4, up_after_ms=0, cooldown_ms=0)
    counts, _ = feed(2, [busy(t, 10_000, 8, 10 * t) for t in (0, 1, 2, 3)], policy)
    assert counts == [3, 3, 3, 3]


def test_no_scale_up_when_slots_are_idle() -> None:
    # A big backlog that the workers do not take (a queue's rate or concurrency limit holds it back):
    # more processes would not help.
    counts, _ = feed(2, [busy(t, 5_000, 2, 10 * t) for t in range(10)])
    assert counts == [2] * 10


def test_no_scale_up_when_the_backlog_drains_fast_enough() -> None:
    # Busy, but 100 waiting at 1,000/s is a 0.1 s wait: below the target.
    counts, _ = feed(2, [busy(t, 100, 8, 1000 * t) for t in range(10)])
    assert counts == [2] * 10


def test_unknown_throughput_with_busy_slots_counts_as_pressure() -> None:
    # Just started: nothing finished yet, every slot busy, work waiting.
    counts, _ = feed(1, [busy(t, 50, 4, 0) for t in (0, 1, 2)])
    assert counts == [1, 1, 2]


def test_scales_down_one_at_a_time_after_lasting_slack() -> None:
    samples = [busy(t, 0, 0, 5000) for t in range(0, 40, 2)]
    counts, _ = feed(4, samples)
    # Slack from t=0: 10 s later (t=10) -> 3. A change restarts the observation: slack seen
    # again from t=12 -> 2 at t=22, from t=24 -> 1 at t=34, and never below the minimum.
    assert counts[:5] == [4] * 5 and counts[5:11] == [3] * 6
    assert counts[11:17] == [2] * 6 and counts[17:] == [1] * 3


def test_no_scale_down_while_the_remaining_processes_would_be_busy() -> None:
    # No backlog (tasks are leased as soon as they arrive) but 10 of 12 slots are in use.
    counts, _ = feed(3, [busy(t, 0, 10, 1000 * t) for t in range(0, 60, 2)])
    assert counts == [3] * 30


def test_no_flapping_on_a_load_that_alternates() -> None:
    # Pressure and slack alternate every sample: neither lasts, nothing changes.
    samples = []
    for t in range(0, 60):
        samples.append(busy(t, 1000, 8, 10 * t) if t % 2 else busy(t, 0, 0, 10 * t))
    counts, _ = feed(2, samples)
    assert counts == [2] * 60


def test_changes_are_at_least_a_cooldown_apart() -> None:
    policy = ScalePolicy(minimum=1, maximum=20, concurrency=1, up_after_ms=0, cooldown_ms=5_000)
    samples = [busy(t, 1_000_000, 100, 0) for t in range(0, 20)]
    counts, _ = feed(1, samples, policy)
    changes = [t for t in range(1, 20) if counts[t] != counts[t - 1]]
    assert changes == [5, 10, 15] and counts[0] == 2
    assert counts[-1] == 16


def test_a_change_restarts_the_observation() -> None:
    # After scaling up, pressure must last up_after again under the new count.
    policy = ScalePolicy(minimum=1, maximum=8, concurrency=1, up_after_ms=3_000, cooldown_ms=0)
    counts, state = feed(1, [busy(t, 1000, 1, 0) for t in (0, 3)], policy)
    assert counts == [1, 2] and state.pressure_since_ms is None
    counts, _ = feed(2, [busy(t, 1000, 2, 0) for t in (4, 5, 6, 7)], policy, state)
    assert counts == [2, 2, 2, 4]


def test_count_outside_the_range_is_corrected_at_once() -> None:
    counts, _ = feed(0, [busy(0, 0, 0, 0)])
    assert counts == [1]
    counts, _ = feed(12, [busy(0, 0, 0, 0)])
    assert counts == [8]


def test_throughput_is_smoothed_and_survives_a_counter_reset() -> None:
    state = ScaleState()
    for t, finished in ((0, 0), (1, 100), (2, 300)):
        state = decide(2, busy(t, 0, 0, finished), state, POLICY).state
    assert state.rate == pytest.approx(150.0)  # 0.5 * 200 + 0.5 * 100
    state = decide(2, busy(3, 0, 0, 0), state, POLICY).state  # FLUSHALL: the total went back to 0
    assert state.rate == pytest.approx(75.0)


def test_reasons_say_why() -> None:
    policy = ScalePolicy(minimum=1, maximum=4, concurrency=4, up_after_ms=0, down_after_ms=0, cooldown_ms=0)
    up = decide(1, busy(0, 500, 4, 0), ScaleState(), policy)
    assert up.target == 2 and "backlog 500" in up.reason and "4 of 4 slots busy" in up.reason
    down = decide(2, busy(1, 0, 0, 0), ScaleState(), policy)
    assert down.target == 1 and "no backlog" in down.reason
    same = decide(2, busy(1, 3, 1, 0), ScaleState(), policy)
    assert same.target == 2 and same.reason == ""
