"""Vertex's token-endpoint quota: N requests per minute per project (and per API key), shared by
countTokens and computeTokens. A sliding 60-second window: a request is admitted when every budget
it is charged to has had fewer than N admitted requests in the last 60 s.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

WINDOW_SECONDS = 60.0
# Budgets are keyed by names taken from the request path (projects); keep only this many, dropping
# the least recently used, so that made-up project names cannot grow memory without bound.
MAX_BUDGETS = 10_000


class Quota:
    def __init__(
        self,
        requests_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_budgets: int = MAX_BUDGETS,
    ) -> None:
        self.limit = requests_per_minute
        self._clock = clock
        self._max_budgets = max_budgets
        self._budgets: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._next_sweep = clock() + WINDOW_SECONDS

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def acquire(self, budgets: Sequence[str], units: int = 1) -> float | None:
        """Charge `units` requests (at most `limit`) to every budget; None when admitted, else seconds
        until enough slots free."""
        if not self.enabled:
            return None
        if units > self.limit:
            return WINDOW_SECONDS  # never admitted whole; callers say so first
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            windows = [self._window(name, now) for name in budgets]
            # the slot that must leave the window before `units` more fit
            waits = [
                w[len(w) + units - self.limit - 1] + WINDOW_SECONDS - now
                for w in windows
                if len(w) + units > self.limit
            ]
            if waits:
                return max(waits)
            for window in windows:
                window.extend([now] * units)
            return None

    def _sweep(self, now: float) -> None:
        """Once a minute: forget budgets with nothing left in their window."""
        self._next_sweep = now + WINDOW_SECONDS
        for name in list(self._budgets):
            window = self._budgets[name]
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if not window:
                del self._budgets[name]

    def _window(self, name: str, now: float) -> deque[float]:
        window = self._budgets.get(name)
        if window is None:
            window = self._budgets[name] = deque()
            while len(self._budgets) > self._max_budgets:
                self._budgets.popitem(last=False)
        else:
            self._budgets.move_to_end(name)
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        return window


def retry_after_header(wait: float) -> str:
    """Whole seconds, rounded up, at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(wait)))
