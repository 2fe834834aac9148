"""The stats store and metric ids, as Envoy's ``context.cc`` behaves."""

from __future__ import annotations

import pytest

from abi.context_interface import StatusError
from abi.enums import MetricType, Status
from abi.proxy.metrics import MetricConflict, MetricIds, MetricStore


def refused(action: object) -> Status:
    """The status an operation answers by raising (OK if it does not)."""
    try:
        action()  # type: ignore[operator]
    except StatusError as error:
        return error.status
    return Status.OK


def test_ids_carry_the_type_in_their_low_bits_and_repeat_for_the_same_name() -> None:
    ids = MetricIds(MetricStore())
    assert ids.define(MetricType.COUNTER, "c1") == 4
    assert ids.define(MetricType.GAUGE, "g1") == 5
    assert ids.define(MetricType.HISTOGRAM, "h1") == 6
    assert ids.define(MetricType.COUNTER, "c2") == 8
    assert ids.define(MetricType.COUNTER, "c1") == 4


def test_a_name_has_one_type() -> None:
    ids = MetricIds(MetricStore())
    ids.define(MetricType.COUNTER, "m")
    with pytest.raises(MetricConflict):
        ids.define(MetricType.GAUGE, "m")


def test_two_plugins_share_a_metric_by_name() -> None:
    store = MetricStore()
    first, second = MetricIds(store), MetricIds(store)
    first.lookup(first.define(MetricType.COUNTER, "shared")).increment(2)  # type: ignore[union-attr]
    second.lookup(second.define(MetricType.COUNTER, "shared")).increment(3)  # type: ignore[union-attr]
    assert store.report() == {"shared": 5}


def test_counter_semantics() -> None:
    counter = MetricStore().define(MetricType.COUNTER, "c")
    assert refused(lambda: counter.increment(0)) is Status.BAD_ARGUMENT
    assert refused(lambda: counter.increment(-1)) is Status.BAD_ARGUMENT
    assert refused(lambda: counter.increment(5)) is Status.OK
    assert refused(lambda: counter.record(2)) is Status.OK
    assert counter.read() == 7


def test_gauge_semantics() -> None:
    gauge = MetricStore().define(MetricType.GAUGE, "g")
    assert refused(lambda: gauge.record(10)) is Status.OK
    assert refused(lambda: gauge.increment(-3)) is Status.OK
    assert gauge.read() == 7
    gauge.increment(-10)
    assert gauge.read() == (1 << 64) - 3
    assert gauge.report_value() == -3


def test_histogram_semantics() -> None:
    histogram = MetricStore().define(MetricType.HISTOGRAM, "h")
    assert refused(lambda: histogram.record(3)) is Status.OK
    assert refused(lambda: histogram.record(5)) is Status.OK
    assert refused(lambda: histogram.increment(1)) is Status.BAD_ARGUMENT
    assert histogram.read() is None
    assert histogram.report_value() == {"count": 2, "sum": 8, "values": [3, 5]}


def test_report_is_sorted_by_name() -> None:
    store = MetricStore()
    for name in ("b", "a", "c"):
        store.define(MetricType.COUNTER, name)
    assert list(store.report()) == ["a", "b", "c"]
