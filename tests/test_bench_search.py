"""How the load benchmark's search (bench/load.py) moves N from step to step."""

import asyncio

from bench.load import Step, _search


def _search_on(capacity: int, stalls: set[int]) -> tuple[int, list[int]]:
    """The largest N the search reports, and the Ns it ran, on a server that holds up to
    `capacity` sessions except at the first try of each N in `stalls` (as when the shared
    machine stalls for a moment)."""
    tried: list[int] = []

    async def step(n: int) -> Step:
        stalled = n in stalls and n not in tried
        tried.append(n)
        p95 = 40.0 if n <= capacity and not stalled else 400.0
        return Step(
            mix="light",
            n=n,
            seconds=20.0,
            writes_per_s=0.05 * n,
            writes={"mark": {"p95_ms": p95}},
            bare={"p95_ms": 2.0},
            update={"p50_ms": 20.0, "p95_ms": 60.0, "max_ms": 90.0},
            update_by_kind={},
            errors={},
            cpu={"server_cores": 0.5, "generator_cores": 0.05, "others_cores": 0.0},
        )

    steps = asyncio.run(_search(step, start=50, most=1600))
    return max((s.n for s in steps if s.held), default=0), tried


def test_a_stalled_step_while_n_doubles_is_run_again_and_the_search_goes_on():
    largest, tried = _search_on(capacity=1000, stalls={50})
    assert largest == 1000
    # 1,600 fails twice, so the bisection starts; its steps are run once each.
    assert tried == [50, 50, 100, 200, 400, 800, 1600, 1600, 1200, 1000, 1100]


def test_a_stall_while_bisecting_is_not_run_again():
    largest, tried = _search_on(capacity=1000, stalls={1000})
    assert largest == 950
    assert tried == [50, 100, 200, 400, 800, 1600, 1600, 1200, 1000, 900, 950]


def test_a_first_step_that_fails_twice_is_bisected_below_the_start():
    largest, tried = _search_on(capacity=30, stalls=set())
    assert largest == 29
    assert tried == [50, 50, 25, 37, 31, 28, 29]
