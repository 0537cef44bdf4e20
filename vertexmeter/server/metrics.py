"""Prometheus metrics, in a registry of the app's own (so that several apps in one process stay apart).

Label values are all from closed sets (route names, status codes, registry model ids, modalities),
never from raw request text, so an attacker cannot grow the number of series.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "vertexmeter_requests",
            "HTTP requests served, by route and status code.",
            ("route", "method", "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "vertexmeter_request_duration_seconds",
            "Time from request start to the end of the response, by route.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "vertexmeter_tokens_counted",
            "Tokens counted in answered countTokens/computeTokens requests, by model and modality.",
            ("rpc", "model", "modality"),
            registry=self.registry,
        )
        self.rejections = Counter(
            "vertexmeter_quota_rejections",
            "Requests refused with 429 RESOURCE_EXHAUSTED because a budget was spent.",
            registry=self.registry,
        )

        # Each request's series, looked up once: `labels()` costs more than the increment it leads to.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._tokens: dict[tuple[str, str, str], Any] = {}

    def observe(self, route: str, method: str, code: int, seconds: float) -> None:
        key = (route, method, code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (self.requests.labels(route, method, str(code)), self.latency.labels(route))
        series[0].inc()
        series[1].observe(seconds)

    def count_tokens(self, rpc: str, model: str, tokens: dict[str, int]) -> None:
        for modality, n in tokens.items():
            key = (rpc, model, modality)
            counter = self._tokens.get(key)
            if counter is None:
                counter = self._tokens[key] = self.tokens.labels(rpc, model, modality)
            counter.inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
