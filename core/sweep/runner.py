"""Where trials run: in this process, on a Dask LocalCluster, or on an existing scheduler.

No home-made job runner: Dask does the scheduling, and when a worker dies its unfinished
trials are rescheduled on the others by the scheduler itself (a trial that kills workers
three times in a row comes back as ``KilledWorker`` and is reported as an error). The
context is sent to every worker once (``scatter(broadcast=True)``); each task carries only a
trial's number and parameters. If the context itself is lost with a worker (the scheduler
may have kept a single replica), it is scattered again and the cancelled trials resubmitted.

A pool keeps a small window of tasks in flight (two per worker thread) rather than
submitting thousands at once, so a cancel (Ctrl-C) only has to drop a handful and the
ledger is written in step with the results; short trials travel in chunks of about a
quarter second of work so Dask's per-task cost stays small.
"""

from __future__ import annotations

import contextlib
import signal
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from core.errors import ConfigError
from core.sweep.context import SweepContext
from core.sweep.trial import TrialResult, evaluate

Task = tuple[int, dict[str, Any]]
#: Seconds of trial work per Dask task (chunks of short trials; long trials go one by one).
CHUNK_SECONDS = 0.25
MAX_CHUNK = 64
OnResult = Callable[[TrialResult], None]
ShouldStop = Callable[[], bool]


def _error(number: int, params: dict[str, Any], role: str, exc: BaseException) -> TrialResult:
    name = type(exc).__name__
    msg = "its worker died 3 times running it" if name == "KilledWorker" else f"{name}: {exc}"
    return TrialResult(number=number, params=params, status="error", role=role, message=msg)


@contextlib.contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored: the client decides when to stop.

    A terminal sends SIGINT to the whole foreground process group, LocalCluster workers
    included; they would die mid-trial printing tracebacks while the client is still
    finishing cleanly. An ignored signal stays ignored across the workers' exec (and Python
    then installs no KeyboardInterrupt handler), so only the client sees Ctrl-C.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def evaluate_chunk(ctx: SweepContext, tasks: list[Task], role: str) -> list[TrialResult]:
    """Evaluate several trials in one Dask task (one result per trial, errors included)."""
    out = []
    for number, params in tasks:
        try:
            out.append(evaluate(ctx, number, params, role=role))
        except Exception as exc:  # a bug in one trial must not lose the others
            out.append(_error(number, params, role, exc))
    return out


class LocalPool:
    """Runs trials one after another in this process (``--workers 0``; tests, debugging)."""

    workers = 1
    address = "in-process"

    def __init__(self, ctx: SweepContext) -> None:
        self.ctx = ctx

    def run(self, tasks: list[Task], on_result: OnResult, should_stop: ShouldStop, *,
            role: str = "validation") -> bool:
        """Evaluate ``tasks``; returns False when ``should_stop`` cut the run short."""
        for number, params in tasks:
            if should_stop():
                return False
            try:
                res = evaluate(self.ctx, number, params, role=role)
            except Exception as exc:  # a bug in one trial must not lose the others
                res = _error(number, params, role, exc)
            on_result(res)
        return True

    def close(self) -> None:
        """Nothing to release."""


class DaskPool:
    """Runs trials on Dask: a LocalCluster of ``workers`` processes, or ``cluster``'s scheduler."""

    def __init__(self, ctx: SweepContext, *, workers: int | None = None,
                 cluster: str | None = None, timeout: str = "5s") -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise ConfigError("Dask is not installed", hint="pip install 'scalpdesk[cluster]', or "
                              "run with --workers 0 (in this process)") from None
        self._local = None
        if cluster:
            try:
                self.client = Client(cluster, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {cluster}: {exc}",
                                  hint="start one with `dask scheduler` (and `dask worker "
                                       "tcp://host:port`) and pass its tcp://host:port") from None
        else:
            # One thread per worker process: trials are single-threaded (LightGBM too).
            try:
                with _children_ignore_sigint():
                    self._local = LocalCluster(n_workers=int(workers or 1), threads_per_worker=1,
                                               processes=True, dashboard_address=None)
            except Exception as exc:  # a worker that cannot start (import error, no memory)
                raise ConfigError(f"could not start a local Dask cluster of {workers} worker(s): "
                                  f"{type(exc).__name__}: {exc}",
                                  hint="run in this process with --workers 0, or fewer "
                                       "--workers; the worker's error is printed above") from None
            self.client = Client(self._local)
        self.address = str(self.client.scheduler.address)
        nthreads = self.client.nthreads()
        if not nthreads:
            self.client.wait_for_workers(1, timeout=30)
            nthreads = self.client.nthreads()
        self.workers = max(1, sum(nthreads.values()))
        self._raw = ctx
        self._ctx = self.client.scatter(ctx, broadcast=True)

    def _lost_context(self, exc: BaseException) -> bool:
        """True when a chunk was cancelled because the scattered context was lost, after
        scattering it again (False when that fails: the caller reports the trials).

        The scheduler's memory manager may drop "extra" replicas of the broadcast context;
        when the worker holding the last one dies, the context is forgotten and every task
        that needs it is cancelled ("already forgotten") — not a failure of those trials.
        """
        if type(exc).__name__ not in ("FutureCancelledError", "CancelledError"):
            return False
        if self._ctx.status == "finished":
            return True   # already scattered again for an earlier chunk of this loss
        try:
            self._ctx = self.client.scatter(self._raw, broadcast=True, timeout=30)
        except Exception:  # no worker left: the trials are reported as errors
            return False
        return True

    def run(self, tasks: list[Task], on_result: OnResult, should_stop: ShouldStop, *,
            role: str = "validation") -> bool:
        """Evaluate ``tasks`` with a bounded window in flight; False when cancelled.

        Trials go out in chunks of about :data:`CHUNK_SECONDS` of work (sized from the
        trials measured so far), so Dask's fixed cost per task — a few milliseconds of
        scheduling and serialisation — stays small next to trials that take only tens of
        milliseconds. The first trials go one by one, until their cost is known.
        """
        from distributed import as_completed

        queue = deque(tasks)
        window = 2 * self.workers
        meta: dict[Any, list[Task]] = {}
        ac = as_completed()
        pace: list[float] = []  # seconds per trial, as measured inside the trials
        resent: dict[int, int] = {}  # trial number → times resubmitted after a lost context

        def chunk_size() -> int:
            if not pace:
                return 1
            k = int(CHUNK_SECONDS / max(statistics.fmean(pace[-50:]), 1e-4))
            # Never so large that a worker would idle while another holds the rest.
            return max(1, min(k, MAX_CHUNK, len(queue) // (2 * self.workers)))

        def submit() -> None:
            while queue and len(meta) < window:
                chunk = [queue.popleft() for _ in range(min(chunk_size(), len(queue)))]
                key = f"trials-{role}-{chunk[0][0]}-{len(chunk)}-{uuid.uuid4().hex[:8]}"
                fut = self.client.submit(evaluate_chunk, self._ctx, chunk, role, pure=False,
                                         key=key)
                meta[fut] = chunk
                ac.add(fut)

        submit()
        while meta:
            if should_stop():
                for fut in meta:
                    fut.cancel()
                return False
            if not ac.has_ready():
                time.sleep(0.005)
                continue
            for fut in ac.next_batch(block=False):
                chunk = meta.pop(fut)
                try:
                    results = fut.result()
                except Exception as exc:  # KilledWorker, a lost context, a lost cluster
                    fut.release()
                    if max(resent.get(n, 0) for n, _ in chunk) < 3 and self._lost_context(exc):
                        for n, _ in chunk:
                            resent[n] = resent.get(n, 0) + 1
                        queue.extendleft(reversed(chunk))   # same trials, same order
                        continue
                    results = [_error(n, p, role, exc) for n, p in chunk]
                for res in results:
                    if res.status != "error":
                        pace.append(res.seconds)
                    on_result(res)
                fut.release()
            submit()
        return True

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster this pool started)."""
        try:
            self.client.close()
        finally:
            if self._local is not None:
                self._local.close()


def make_pool(ctx: SweepContext, *, workers: int | None, cluster: str | None
              ) -> LocalPool | DaskPool:
    """In-process with ``workers == 0``; otherwise Dask (LocalCluster by default)."""
    if cluster:
        return DaskPool(ctx, cluster=cluster)
    if workers == 0:
        return LocalPool(ctx)
    import os

    return DaskPool(ctx, workers=workers or os.cpu_count() or 1)


class StopGuard:
    """Aborts a run whose trials all fail (a bug or a lost cluster), rather than spin."""

    def __init__(self, limit: int = 5) -> None:
        self.limit = limit
        self.streak = 0
        self.first: TrialResult | None = None

    def see(self, res: TrialResult) -> None:
        """Count consecutive errors."""
        if res.status == "error":
            self.streak += 1
            self.first = self.first or res
        else:
            self.streak = 0

    @property
    def tripped(self) -> bool:
        """True after ``limit`` errors in a row."""
        return self.streak >= self.limit
