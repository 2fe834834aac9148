"""Metrics: the proxy's stats store and each plugin's metric ids.

The store is shared by every plugin (in Envoy stats are global: two plugins
defining ``requests_total`` update one counter).  A name has one type; defining
it again with another type is BAD_ARGUMENT.  Each plugin VM numbers the metrics
it defines as Envoy does: the two low bits of an id are the type (counter 0,
gauge 1, histogram 2) and ids go up by 4 per type, so the first counter is 4,
the first gauge 5, the first histogram 6; defining the same name and type again
returns the same id.

Operations follow Envoy's ``context.cc``:

* counter: ``increment`` needs a positive delta (else BAD_ARGUMENT),
  ``record`` adds, ``get`` reads;
* gauge: ``increment`` adds a signed delta, ``record`` sets, ``get`` reads;
* histogram: ``record`` adds a sample; ``increment`` and ``get`` are
  BAD_ARGUMENT.

Unknown ids are NOT_FOUND.  Values are reported as integers; a histogram as
``{"count": n, "sum": s, "values": [samples in recording order]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from abi.context_interface import StatusError
from abi.enums import MetricType, Status
from abi.wire.text import from_wire

METRIC_TYPE_MASK = 0x3
METRIC_ID_INCREMENT = 0x4
U64_MASK = (1 << 64) - 1


@dataclass
class Metric:
    name: str
    type: MetricType
    value: int = 0
    samples: list[int] = field(default_factory=list)

    def increment(self, delta: int) -> None:
        if self.type is MetricType.COUNTER:
            if delta <= 0:
                raise StatusError(Status.BAD_ARGUMENT, "a counter only goes up")
            self.value += delta
        elif self.type is MetricType.GAUGE:
            self.value += delta
        else:
            raise StatusError(Status.BAD_ARGUMENT, "a histogram cannot be incremented")

    def record(self, value: int) -> None:
        if self.type is MetricType.COUNTER:
            self.value += value
        elif self.type is MetricType.GAUGE:
            self.value = value
        else:
            self.samples.append(value)

    def read(self) -> int | None:
        """The value ``proxy_get_metric`` answers, ``None`` for histograms."""
        if self.type is MetricType.HISTOGRAM:
            return None
        return self.value & U64_MASK

    def report_value(self) -> int | dict:
        if self.type is MetricType.HISTOGRAM:
            return {"count": len(self.samples), "sum": sum(self.samples), "values": list(self.samples)}
        return self.value


class MetricConflict(ValueError):
    """A name is already defined with another metric type."""


class MetricStore:
    """Every metric of the proxy, by name."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}

    def define(self, metric_type: MetricType, name: str) -> Metric:
        metric = self._metrics.get(name)
        if metric is None:
            metric = Metric(name, metric_type)
            self._metrics[name] = metric
        elif metric.type is not metric_type:
            raise MetricConflict(f"metric {name!r} is already a {metric.type.name.lower()}")
        return metric

    def get(self, name: str) -> Metric | None:
        return self._metrics.get(name)

    def report(self) -> dict[str, int | dict]:
        """``{name: value}`` sorted by name."""
        return {name: self._metrics[name].report_value() for name in sorted(self._metrics)}


class MetricIds:
    """One plugin VM's ids for the metrics it defined."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store
        self._by_id: dict[int, Metric] = {}
        self._by_key: dict[tuple[MetricType, str], int] = {}
        self._next: dict[MetricType, int] = {kind: int(kind) for kind in MetricType}

    def define(self, metric_type: MetricType, name: str) -> int:
        """The id of ``name``; ``MetricConflict`` if it has another type."""
        key = (metric_type, name)
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        metric = self.store.define(metric_type, name)
        self._next[metric_type] += METRIC_ID_INCREMENT
        metric_id = self._next[metric_type]
        self._by_key[key] = metric_id
        self._by_id[metric_id] = metric
        return metric_id

    def lookup(self, metric_id: int) -> Metric | None:
        return self._by_id.get(metric_id)


class VmMetrics:
    """``abi.context_interface.Metrics`` for the contexts of one VM."""

    def __init__(self, ids: MetricIds) -> None:
        self.ids = ids

    def define(self, metric_type: MetricType, name: bytes) -> int:
        try:
            return self.ids.define(metric_type, from_wire(name))
        except MetricConflict as error:
            raise StatusError(Status.BAD_ARGUMENT, str(error)) from None

    def _metric(self, metric_id: int) -> Metric:
        metric = self.ids.lookup(metric_id)
        if metric is None:
            raise StatusError(Status.NOT_FOUND, f"no metric {metric_id}")
        return metric

    def increment(self, metric_id: int, delta: int) -> None:
        self._metric(metric_id).increment(delta)

    def record(self, metric_id: int, value: int) -> None:
        self._metric(metric_id).record(value)

    def get(self, metric_id: int) -> int:
        value = self._metric(metric_id).read()
        if value is None:
            raise StatusError(Status.BAD_ARGUMENT, "a histogram has no single value")
        return value
