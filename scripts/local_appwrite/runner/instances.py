"""Build mode's one-execution-at-a-time instances, and the detection of synchronous deadlocks.

On Appwrite a Python function instance serves one request at a time (one gunicorn worker on the
small specifications): further executions wait for the instance, and a synchronous execution
still waiting or running when the function's timeout has passed fails. :class:`InstanceBoard`
reproduces that: each function has ``capacity`` instances (a stack setting, default 1), an
execution *leases* one instance for its whole run, and the others queue in arrival order.

It also knows who waits for whom, so it can tell at once when a synchronous execution can never
start: every instance of the function it asks for is held by an execution that is itself
(transitively) waiting for the requester: a function that executes itself synchronously, or a
cycle of synchronous executions. Appwrite would let that request wait out the timeout and answer
408; the stack reports it immediately instead (see docs/local-appwrite.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

DEFAULT_INSTANCES = 1


def parse_instances(setting: str | int | None) -> tuple[int, dict[str, int]]:
    """``"2"`` → every function 2 instances; ``"1,consultas=4,relay=2"`` → per-function overrides.

    A malformed setting is an operator error, so it fails loudly when the stack starts.
    """
    default, overrides = DEFAULT_INSTANCES, {}
    for part in str(setting if setting not in (None, "") else DEFAULT_INSTANCES).split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        count = int(value if sep else key)
        if count < 1:
            raise ValueError(f"function instances must be at least 1: {part!r}")
        if sep:
            overrides[key.strip()] = count
        else:
            default = count
    return default, overrides


class Deadlock(RuntimeError):
    """A synchronous execution that could never get an instance."""


@dataclass
class Lease:
    board: InstanceBoard
    function_id: str
    execution_id: str
    index: int  # which instance (0-based): each has its own worker process

    def release(self) -> None:
        self.board.release(self)


@dataclass
class _Function:
    capacity: int
    free: list[int]
    holders: dict[int, str] = field(default_factory=dict)  # instance index -> execution id
    queue: deque[str] = field(default_factory=deque)  # execution ids waiting, oldest first
    # its waiters, on the board's lock: a release wakes only this function's queue, not every function's
    changed: threading.Condition = field(default_factory=threading.Condition)


class InstanceBoard:
    def __init__(self, default: int = DEFAULT_INSTANCES, overrides: dict[str, int] | None = None) -> None:
        self.default = default
        self.overrides = dict(overrides or {})
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._functions: dict[str, _Function] = {}
        self._parent: dict[str, str] = {}  # sync child execution -> the execution waiting for it
        self._children: dict[str, set[str]] = {}  # execution -> its sync children still running
        self._queued_for: dict[str, str] = {}  # execution -> function whose instance it waits for

    def capacity(self, function_id: str) -> int:
        return self.overrides.get(function_id, self.default)

    def _function(self, function_id: str) -> _Function:
        state = self._functions.get(function_id)
        if state is None:
            capacity = self.capacity(function_id)
            state = self._functions[function_id] = _Function(capacity, list(range(capacity)),
                                                             changed=threading.Condition(self._lock))
        return state

    # -- the synchronous call graph -----------------------------------------------------------
    def begin_sync(self, function_id: str, execution_id: str, parent_id: str) -> None:
        """Record that ``parent_id`` (an execution) waits synchronously for ``execution_id``.

        Raises :class:`Deadlock` (recording nothing) when the new execution could never start.
        """
        with self._cond:
            reason = self._deadlock(function_id, parent_id)
            if reason:
                raise Deadlock(reason)
            self._parent[execution_id] = parent_id
            self._children.setdefault(parent_id, set()).add(execution_id)

    def end_sync(self, execution_id: str) -> None:
        with self._cond:
            parent = self._parent.pop(execution_id, None)
            if parent is not None:
                children = self._children.get(parent, set())
                children.discard(execution_id)
                if not children:
                    self._children.pop(parent, None)

    def _deadlock(self, function_id: str, parent_id: str) -> str:
        state = self._function(function_id)
        if state.free:
            return ""
        # Executions that cannot finish before the requested one does: its caller chain, then, to a
        # fixed point, every execution blocked only on those (waiting on a sync child that is
        # doomed, or queued for a function whose instances are all held by doomed executions).
        doomed: set[str] = set()
        current: str | None = parent_id
        while current is not None and current not in doomed:
            doomed.add(current)
            current = self._parent.get(current)
        changed = True
        while changed:
            changed = False
            for execution, children in self._children.items():
                if execution not in doomed and children & doomed:
                    doomed.add(execution)
                    changed = True
            for execution, queued_for in self._queued_for.items():
                holders = self._function(queued_for)
                if execution not in doomed and not holders.free and set(holders.holders.values()) <= doomed:
                    doomed.add(execution)
                    changed = True
        if not set(state.holders.values()) <= doomed:
            return ""
        chain = [parent_id]
        while chain[-1] in self._parent and len(chain) < 10:
            chain.append(self._parent[chain[-1]])
        return (
            f"synchronous execution of {function_id!r} would deadlock: all {state.capacity} instance(s) of "
            f"{function_id!r} are busy with executions waiting for this very call (caller chain: "
            f"{' <- '.join(chain)}). Appwrite would wait for the timeout and answer 408. Never execute a "
            "function synchronously from itself or in a cycle: use an asynchronous execution."
        )

    # -- instances --------------------------------------------------------------------------
    def acquire(self, function_id: str, execution_id: str, deadline: float | None) -> Lease | None:
        """Wait (in arrival order) for a free instance until ``deadline`` (monotonic); ``None`` past it."""
        with self._cond:
            state = self._function(function_id)
            changed = state.changed
            state.queue.append(execution_id)
            self._queued_for[execution_id] = function_id
            try:
                while not (state.free and state.queue[0] == execution_id):
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return None
                    changed.wait(remaining)
                index = state.free.pop(0)
                state.holders[index] = execution_id
                return Lease(self, function_id, execution_id, index)
            finally:
                state.queue.remove(execution_id)
                self._queued_for.pop(execution_id, None)
                changed.notify_all()  # the next in line may go

    def release(self, lease: Lease) -> None:
        with self._cond:
            state = self._function(lease.function_id)
            if state.holders.get(lease.index) == lease.execution_id:
                del state.holders[lease.index]
                state.free.append(lease.index)
                state.free.sort()
            state.changed.notify_all()

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._cond:
            return {
                fid: {"instances": s.capacity, "busy": dict(s.holders), "queued": list(s.queue)}
                for fid, s in self._functions.items()
            }
