"""Prometheus metrics, in a registry of the app's own (so that several apps in one process stay apart).

Label values are all from closed sets (route names, status codes, registry model ids, modalities),
never from raw request text, so an attacker cannot grow the number of series.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BUCKET_NAMES = [floatToGoString(b) for b in LATENCY_BUCKETS] + ["+Inf"]
_SUM = len(LATENCY_BUCKETS) + 1  # a route's tally: one count per bucket (the last for +Inf), then the sum


class _Tallies(Collector):
    """Requests, latencies and tokens counted in plain ints and folded into Prometheus families on scrape.

    A prometheus_client child's `inc`/`observe` takes a lock and walks the buckets: several µs a request,
    as much as the fast lane's whole answer. Every update happens on the event loop's thread, so plain
    ints need no lock."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], list[float]] = {}  # -> [count, created]
        self.latency: dict[str, list[float]] = {}  # route -> bucket counts, sum
        self.latency_created: dict[str, float] = {}
        self.tokens: dict[tuple[str, str, str], list[float]] = {}  # -> [tokens, created]

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "vertexmeter_requests",
            "HTTP requests served, by route and status code.",
            labels=("route", "method", "code"),
        )
        for (route, method, code), (count, created) in list(self.requests.items()):
            requests.add_metric((route, method, str(code)), count, created=created)
        yield requests
        latency = HistogramMetricFamily(
            "vertexmeter_request_duration_seconds",
            "Time from request start to the end of the response, by route.",
            labels=("route",),
        )
        for route, tally in list(self.latency.items()):
            counts = tally[:_SUM]
            cumulative, buckets = 0.0, []
            for name, count in zip(_BUCKET_NAMES, counts, strict=True):
                cumulative += count
                buckets.append((name, cumulative))
            latency.add_metric((route,), buckets, tally[_SUM])
            latency.add_sample(
                "vertexmeter_request_duration_seconds_created", {"route": route}, self.latency_created[route]
            )
        yield latency
        tokens = CounterMetricFamily(
            "vertexmeter_tokens_counted",
            "Tokens counted in answered countTokens/computeTokens requests, by model and modality.",
            labels=("rpc", "model", "modality"),
        )
        for labels, (count, created) in list(self.tokens.items()):
            tokens.add_metric(labels, count, created=created)
        yield tokens


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._tallies = _Tallies()
        self.registry.register(self._tallies)
        self.rejections = Counter(
            "vertexmeter_quota_rejections",
            "Requests refused with 429 RESOURCE_EXHAUSTED because a budget was spent.",
            registry=self.registry,
        )

    def observe(self, route: str, method: str, code: int, seconds: float) -> None:
        tallies = self._tallies
        key = (route, method, code)
        series = tallies.requests.get(key)
        if series is None:
            series = tallies.requests[key] = [0, time.time()]
        series[0] += 1
        latency = tallies.latency.get(route)
        if latency is None:
            latency = tallies.latency[route] = [0] * _SUM + [0.0]
            tallies.latency_created[route] = time.time()
        latency[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # (the first bucket whose bound is >= seconds)
        latency[_SUM] += seconds

    def count_tokens(self, rpc: str, model: str, tokens: dict[str, int]) -> None:
        counted = self._tallies.tokens
        for modality, n in tokens.items():
            key = (rpc, model, modality)
            counter = counted.get(key)
            if counter is None:
                counter = counted[key] = [0, time.time()]
            counter[0] += n

    def render(self) -> bytes:
        return generate_latest(self.registry)
