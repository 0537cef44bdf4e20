"""What-if scenarios: many requests, caches and tuning for one model, from a JSON/YAML file or a dict."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.pricing.engine import Bill, Pricer
from vertexmeter.pricing.usage import (
    Usage,
    check_keys,
    parse_cache,
    parse_mode,
    parse_request,
    whole_number,
)
from vertexmeter.requests import decode_json

SCENARIO_KEYS = (
    "model", "date", "mode", "platform", "endpoint", "prices", "cache", "requests", "training_tokens", "name",
    "description",
)


class _DecimalLoader(yaml.SafeLoader):
    """YAML whose floats become Decimal (parsed from their text), so 0.1 stays exactly 0.1."""


_DecimalLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: Decimal(loader.construct_scalar(node))  # type: ignore[arg-type]
)


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's bill: exact total plus the total rounded as at the end of a billing period."""

    name: str | None
    bill: Bill

    @property
    def total(self) -> Decimal:
        return self.bill.total

    @property
    def billed_total(self) -> Decimal:
        return self.bill.billed_total

    def to_json(self) -> dict[str, Any]:
        out = self.bill.to_json(period=True)
        return {"scenario": self.name, **out} if self.name else out


def load_scenario(path: str | Path) -> Any:
    """A scenario file's data: JSON (numbers kept as Decimal) or YAML (.yaml/.yml)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise invalid_argument(f"Cannot read scenario file {str(path)!r}: {exc.strerror}.", "scenario") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
        return decode_json(text, decimals=True)
    except VertexMeterError as exc:
        raise invalid_argument(
            f"Scenario file {str(path)!r} is not valid JSON/YAML: {exc.message}", "scenario"
        ) from None
    except yaml.YAMLError as exc:
        raise invalid_argument(f"Scenario file {str(path)!r} is not valid JSON/YAML: {exc}", "scenario") from None


def price_scenario(scenario: str | Path | dict[str, Any]) -> ScenarioResult:
    """Price a scenario (a path to a .json/.yaml file, or the parsed dict)."""
    data = scenario if isinstance(scenario, dict) else load_scenario(scenario)
    data = check_keys(data, SCENARIO_KEYS, "")
    if not data.get("model"):
        raise invalid_argument("A scenario needs a model.", "model")
    mode = parse_mode(data.get("mode", "online"), "mode")
    pricer = Pricer(
        data["model"], date=data.get("date"), platform=data.get("platform", "vertex"), overrides=data.get("prices"),
        endpoint=data.get("endpoint", "global"),
    )
    requests = data.get("requests") or []
    caches = data.get("cache") or []
    for key, value in (("requests", requests), ("cache", caches)):
        if not isinstance(value, list):
            raise invalid_argument(f"{key} must be a list.", key)
    usage = Usage(
        requests=tuple(parse_request(r, f"requests[{i}]") for i, r in enumerate(requests)),
        caches=tuple(parse_cache(c, f"cache[{i}]") for i, c in enumerate(caches)),
        training_tokens=whole_number(data.get("training_tokens", 0), "training_tokens"),
    )
    if not usage.requests and not usage.caches and not usage.training_tokens:
        raise invalid_argument("The scenario has nothing to price: give requests, cache or training_tokens.")
    name = data.get("name")
    return ScenarioResult(str(name) if name else None, pricer.price(usage, mode))
