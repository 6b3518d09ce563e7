"""The supervisor: a failing worker is logged (without its message), counted, restarted with
capped exponential backoff; a worker down too long is named; shutdown leaves no task behind."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import metrics
from bot.supervisor import Dependency, Supervisor, Worker, is_database_outage, outage_reason


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def restarts(name: str) -> float:
    return metrics.WORKER_RESTARTS.labels(name)._value.get()


async def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - state set without a notification
            await asyncio.sleep(0.005)

    try:
        await asyncio.wait_for(poll(), 10)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


async def test_a_failing_worker_is_logged_counted_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(backoff_base=0.001, backoff_cap=0.004)
    runs: list[int] = []
    recovered = asyncio.Event()

    async def flaky(worker: Worker) -> None:
        runs.append(1)
        if len(runs) <= 3:
            raise TypeError("secret text of a person: Оксана +48512345678")
        recovered.set()
        await asyncio.Event().wait()  # runs until cancelled

    before = restarts("flaky")
    with caplog.at_level(logging.ERROR, logger="bot.supervisor"):
        worker = supervisor.start("flaky", flaky)
        await asyncio.wait_for(recovered.wait(), 10)
    assert restarts("flaky") - before == 3
    assert worker.restarts == 3 and not worker.is_down
    lines = [r.getMessage() for r in caplog.records if "worker flaky failed" in r.getMessage()]
    assert len(lines) == 3
    assert "TypeError at" in lines[0] and "test_supervisor.py" in lines[0]
    assert all("Оксана" not in line and "48512345678" not in line for line in caplog.messages)
    await supervisor.stop()
    assert worker.task is not None and worker.task.done()


def test_backoff_doubles_and_is_capped() -> None:
    supervisor = Supervisor(backoff_base=1.0, backoff_cap=60.0)
    assert [supervisor.backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_backoff_grows_while_it_keeps_failing_and_resets_after_a_healthy_run() -> None:
    clock = FakeClock()
    supervisor = Supervisor(backoff_base=0.001, backoff_cap=0.002, healthy_after=60, clock=clock)
    failures: list[int] = []
    done = asyncio.Event()

    async def job(worker: Worker) -> None:
        failures.append(worker.failures_in_a_row)
        if len(failures) == 3:
            clock.now += 61  # this run lasts "a minute" before failing
        if len(failures) == 5:
            done.set()
            await asyncio.Event().wait()
        raise RuntimeError("boom")

    supervisor.start("job", job)
    await asyncio.wait_for(done.wait(), 10)
    # failures in a row seen at the start of each run: 0, 1, 2; the third run lasted a
    # minute, so its failure counts as the first in a row again: 1, 2
    assert failures == [0, 1, 2, 1, 2]
    await supervisor.stop()


async def test_a_worker_down_longer_than_the_limit_is_named_and_recovers() -> None:
    clock = FakeClock()
    supervisor = Supervisor(down_after=30, clock=clock)
    go_up = asyncio.Event()

    async def telegram(worker: Worker) -> None:
        await go_up.wait()
        worker.up()
        await asyncio.Event().wait()

    worker = supervisor.start("telegram", telegram, down="Bot API unreachable")
    assert supervisor.unready() == []  # down, but not for long
    clock.now += 29
    assert supervisor.unready() == []
    clock.now += 2
    assert supervisor.unready() == ["telegram"]
    assert worker.reason == "Bot API unreachable"
    assert metrics.WORKER_UP.labels("telegram")._value.get() == 0
    go_up.set()
    await wait_for(lambda: not worker.is_down, "the worker up")
    assert supervisor.unready() == []
    assert metrics.WORKER_UP.labels("telegram")._value.get() == 1
    await supervisor.stop()


async def test_a_worker_that_keeps_crashing_stays_unready() -> None:
    clock = FakeClock()
    supervisor = Supervisor(down_after=30, backoff_base=3600, backoff_cap=3600, clock=clock)

    async def broken(worker: Worker) -> None:
        raise ValueError("bad")

    supervisor.start("broken", broken)
    async with supervisor.restarted:
        await supervisor.restarted.wait_for(lambda: supervisor.workers["broken"].restarts >= 1)
    clock.now += 31
    assert supervisor.unready() == ["broken"]
    await supervisor.stop()  # interrupts the hour-long backoff at once


async def test_a_one_shot_worker_finishes_and_a_returning_loop_is_restarted() -> None:
    supervisor = Supervisor(backoff_base=0.001)
    calls = {"once": 0, "loop": 0}
    looped = asyncio.Event()

    async def once(worker: Worker) -> None:
        calls["once"] += 1

    async def loop(worker: Worker) -> None:
        calls["loop"] += 1
        if calls["loop"] >= 2:
            looped.set()
            await asyncio.Event().wait()

    one = supervisor.start("register", once, once=True)
    supervisor.start("loop", loop)
    await asyncio.wait_for(looped.wait(), 10)
    await wait_for(lambda: one.finished, "the one-shot worker finished")
    assert calls["once"] == 1 and calls["loop"] == 2
    await supervisor.stop()


async def test_stop_asks_first_then_cancels_and_leaves_no_task() -> None:
    supervisor = Supervisor()
    finishing = asyncio.Event()
    finished: list[str] = []

    async def polite(worker: Worker) -> None:
        await finishing.wait()
        finished.append("polite")

    async def stubborn(worker: Worker) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            finished.append("stubborn cancelled")
            raise

    supervisor.start("polite", polite, stop=finishing.set)
    supervisor.start("stubborn", stubborn)
    await asyncio.sleep(0)
    await supervisor.stop(timeout=0.05)
    assert finished == ["polite", "stubborn cancelled"]
    assert all(w.task is not None and w.task.done() for w in supervisor.workers.values())


async def test_periodic_job_outage_is_logged_once_per_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(backoff_base=0.001)
    database = Dependency("database", is_database_outage)
    outcomes = [ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5999)")] * 5
    ran: list[int] = []
    recovered = asyncio.Event()

    async def job() -> None:
        ran.append(1)
        if outcomes:
            raise outcomes.pop()
        recovered.set()

    before = restarts("housekeeping")
    with caplog.at_level(logging.INFO):
        worker = supervisor.every("housekeeping", 0.001, job, dependency=database)
        await asyncio.wait_for(recovered.wait(), 10)
        await wait_for(lambda: not worker.is_down, "the job up again")
    await supervisor.stop()
    assert restarts("housekeeping") == before  # an outage is not the job's failure
    messages = [m for m in caplog.messages if "database" in m]
    assert messages == [
        "database unreachable (ConnectionRefusedError: [Errno 111] Connect call failed "
        "('127.0.0.1', 5999)); retrying until it is back",
        messages[1],
    ]
    assert messages[1].startswith("database reachable again after ")
    assert database.outages == 1


def test_database_outages_are_told_from_bad_statements() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    assert is_database_outage(refused)
    assert is_database_outage(ConnectionResetError())
    assert not is_database_outage(IntegrityError("INSERT", {}, ValueError("duplicate key")))
    assert not is_database_outage(TypeError("x"))
    assert outage_reason(refused) == "ConnectionRefusedError: [Errno 111] refused"


async def test_readyz_names_the_worker_down_too_long_and_healthz_stays_200() -> None:
    """The real aiohttp server: /readyz 503 naming the worker while it is down longer than
    the limit (the database fine), 200 once it is back; /healthz 200 throughout."""
    import aiohttp

    from bot.http import HttpServer

    clock = FakeClock()
    supervisor = Supervisor(down_after=30, clock=clock)
    back = asyncio.Event()

    async def poller(worker: Worker) -> None:
        worker.down("Bot API unreachable")
        await back.wait()
        worker.up()
        await asyncio.Event().wait()

    async def database_ok() -> bool:
        return True

    worker = supervisor.start("telegram-poller", poller)
    http = HttpServer("127.0.0.1", 0, readiness=database_ok, supervisor=supervisor)
    await http.start()
    try:
        async with aiohttp.ClientSession() as session:

            async def get(path: str) -> tuple[int, dict[str, object]]:
                async with session.get(f"{http.url}{path}") as response:
                    return response.status, await response.json()

            await wait_for(lambda: worker.is_down, "the worker down")
            assert (await get("/readyz"))[0] == 200  # down, not for long yet
            clock.now += 31
            status, body = await get("/readyz")
            assert status == 503
            assert body["workers"] == ["telegram-poller"]
            assert "worker down: telegram-poller" in str(body["reason"])
            assert (await get("/healthz")) == (200, {"status": "ok"})
            back.set()
            await wait_for(lambda: not worker.is_down, "the worker up")
            assert await get("/readyz") == (200, {"status": "ready"})
    finally:
        await http.stop()
        await supervisor.stop()


async def test_a_worker_stopped_by_its_owner_is_finished_not_restarted() -> None:
    supervisor = Supervisor(backoff_base=0.001)
    asked = asyncio.Event()
    runs: list[int] = []

    async def poller(worker: Worker) -> None:
        runs.append(1)
        await asked.wait()
        worker.finish()

    worker = supervisor.start("poller", poller)
    before = restarts("poller")
    asked.set()
    await wait_for(lambda: worker.finished, "the worker finished")
    assert runs == [1] and restarts("poller") == before
    await supervisor.stop()


async def test_a_woken_periodic_job_runs_at_once_and_asks_its_pause_after_each_round() -> None:
    """The announcement worker, the topic sync and the desk check wait long when idle, less
    when busy, and not at all once woken: ``every`` with a pause function and a wake event.
    A wake that comes during a round is not lost; shutdown ends a long wait at once."""
    supervisor = Supervisor()
    wake = asyncio.Event()
    rounds: list[int] = []
    pauses: list[float] = [0.0, 3600.0]  # busy once (no wait), then idle for an hour

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            wake.set()  # work arrived while this round ran

    def pause() -> float:
        return pauses.pop(0) if pauses else 3600.0

    supervisor.every("woken", pause, job, wake=wake)
    await wait_for(lambda: len(rounds) == 2, "the busy round and the next one")
    await asyncio.sleep(0.05)
    assert len(rounds) == 2  # idle: waiting its hour
    wake.set()
    await wait_for(lambda: len(rounds) == 4, "a woken round, and one for the wake during it")
    await asyncio.sleep(0.05)
    assert len(rounds) == 4
    loop = asyncio.get_running_loop()
    started = loop.time()
    await supervisor.stop(timeout=5)
    assert loop.time() - started < 1  # the hour's wait ended with the shutdown
    assert supervisor.workers["woken"].task is not None
    assert supervisor.workers["woken"].task.done()
