"""How the load benchmark's search (bench/load.py) moves N from step to step."""

import argparse
import asyncio

from bench.load import Step, _search


class _Server:
    """Stands in for a load run: a step holds up to `capacity` sessions, except the first try
    at an N listed in `stalls` (as when the shared machine's disk stalls for a moment)."""

    def __init__(self, capacity: int, stalls: set[int]) -> None:
        self.capacity, self.stalls, self.tried = capacity, set(stalls), []

    async def step(self, mix: str, n: int, seconds: float) -> Step:
        self.tried.append(n)
        stalled = n in self.stalls
        self.stalls.discard(n)
        p95 = 40.0 if n <= self.capacity and not stalled else 400.0
        return Step(
            mix=mix,
            n=n,
            seconds=seconds,
            writes_per_s=0.15 * n,
            writes={"mark": {"p95_ms": p95}},
            bare={"p95_ms": 2.0},
            update={"p50_ms": 20.0, "p95_ms": 60.0, "max_ms": 90.0},
            update_by_kind={},
            errors={},
            cpu={"server_cores": 0.5, "generator_cores": 0.05, "others_cores": 0.0},
        )


def _search_on(server: _Server) -> int:
    args = argparse.Namespace(start=50, max=1600, duration=20.0)
    steps = asyncio.run(_search(server, "light", args))
    return max(step.n for step in steps if step.held)


def test_a_stalled_step_while_n_doubles_is_run_again_and_the_search_goes_on():
    server = _Server(capacity=1000, stalls={50})
    assert _search_on(server) == 1000
    # 1,600 fails twice, so the bisection starts; its steps are run once each.
    assert server.tried == [50, 50, 100, 200, 400, 800, 1600, 1600, 1200, 1000, 1100]


def test_a_stall_while_bisecting_is_not_run_again():
    server = _Server(capacity=1000, stalls={1000})
    assert _search_on(server) == 950
    assert server.tried == [50, 100, 200, 400, 800, 1600, 1600, 1200, 1000, 900, 950]
