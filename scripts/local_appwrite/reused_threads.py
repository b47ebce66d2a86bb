"""Connection threads that serve one connection after another instead of one each.

``ThreadingHTTPServer`` starts a thread per connection, and the SDK opens a connection per API call, so
every call paid a thread's start (and the accepting thread's wait for it). Here a thread that finished a
connection waits ``IDLE_SECONDS`` for the next one before it ends; a connection that finds no idle thread
still gets a new one at once, so there is never a bound on how many are served together (an execution's
request stays open while its function calls back into the stack). A thread keeps its thread-local state
between connections: the stack file's connection lease (``storage.py``) is held for the thread's life.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

IDLE_SECONDS = 10.0
Job = tuple[Any, Any]  # (the accepted socket, the client's address)


class ReusedThreads:
    def __init__(self, serve: Callable[[Any, Any], None]) -> None:
        self._serve = serve  # serves one connection and closes it; never raises
        self._idle: list[queue.SimpleQueue[Job | None]] = []  # the inboxes of waiting threads, newest last
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, request: Any, client_address: Any) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._loop, args=(inbox,), daemon=True, name="local-appwrite-request").start()
        inbox.put((request, client_address))

    def close(self) -> None:
        """Let the idle threads end now (busy ones end after their connection) and start no more."""
        with self._lock:
            self._closed = True
        self.retire_idle()

    def retire_idle(self) -> None:
        """End the idle threads now: the next connections get new threads (a profiler sees those)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for inbox in idle:
            inbox.put(None)

    def _loop(self, inbox: queue.SimpleQueue[Job | None]) -> None:
        job = inbox.get()
        while job is not None:
            self._serve(*job)
            job = None  # drop the socket before waiting
            with self._lock:
                if self._closed:
                    return
                self._idle.append(inbox)
            try:
                job = inbox.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                job = inbox.get()  # ``submit`` took this thread just now: its connection is on the way
