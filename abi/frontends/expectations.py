"""What a scenario expects, and checking it against what happened.

A scenario may say what it expects of each stream (``streams[N].expect``),
of each connection (``connections[N].expect``) and of the whole run (the
top-level ``expect``); ``docs/scenarios.md`` lists every key with an
example.  The expectations are read here, with the scenario's own checks of
shapes (``DocumentShapes``, so that an error names its key path), and checked
against the host once the run is over.  The same check serves
``glasswasm proxy`` (which prints every unmet expectation and exits with
status 1) and the pytest plugin (one test item per stream and connection,
and one for the run).

Plugin failures are expectations too, whether or not the scenario mentions
them: a run may have only the failures ``expect.failures`` names, and must
have those.  A failure in a stream's or a connection's context belongs to
that stream or connection; others (starting, configuring, root contexts)
belong to the run.

Each expectation is checked on its own and counted; an unmet one (``Unmet``)
says what was expected and what happened instead, in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from abi.enums import LogLevel
from abi.errors import ScenarioError
from abi.frontends.changes import quoted
from abi.proxy.connection import NetworkConnection, PeerReceived
from abi.proxy.headers import HeaderMap
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import HttpStream
from abi.proxy.records import HttpMessage, LogEntry
from abi.vm.callbacks import Failure
from abi.wire.key_paths import join_key
from abi.wire.text import as_bytes, ascii_lower, readable

MetricValue = int | tuple[tuple[str, Any], ...] | None
"""A counter's or gauge's value; a histogram's ``count``, ``sum`` and/or
``values``; ``None``: never defined."""

HeaderValues = tuple[tuple[bytes, tuple[bytes, ...]], ...]

STREAM_KEYS = ("status", "origin_reached", "local_reply", "origin_received", "client_received", "logs",
               "stalled", "reset")
CONNECTION_KEYS = ("origin_received", "client_received", "closed_by", "stalled", "logs")
RUN_KEYS = ("failures", "logs", "metrics")
MESSAGE_KEYS = ("headers", "headers_present", "headers_absent", "body", "body_contains", "trailers")
DATA_KEYS = ("data", "data_contains", "bytes", "end_of_stream")
LOCAL_REPLY_KEYS = ("status", "details", "plugin", "body")
LOG_KEYS = ("message", "contains", "plugin", "level")
FAILURE_KEYS = ("plugin", "callback", "stream", "error")
HISTOGRAM_KEYS = ("count", "sum", "values")
MAX_STATUS = 999
MAX_COUNT = (1 << 63) - 1
LISTED_LINES = 5
"""Log lines shown when an expected line is missing: enough to spot a near
miss, few enough to stay on one line."""


# --- what can be expected ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogExpectation:
    """A log line: ``message`` exactly, or one that ``contains`` a text;
    from ``plugin`` and at ``level`` when they are given."""

    message: str | None = None
    contains: str | None = None
    plugin: str | None = None
    level: LogLevel | None = None

    def matches(self, entry: LogEntry) -> bool:
        return ((self.plugin is None or entry.plugin == self.plugin)
                and (self.level is None or entry.level is self.level)
                and (self.message is None or readable(entry.message) == self.message)
                and (self.contains is None or self.contains in readable(entry.message)))

    def describe(self) -> str:
        text = quoted(self.message, len(self.message) + 2) if self.message is not None else \
            f"containing {quoted(self.contains or '')}"
        where = f" from {self.plugin}" if self.plugin else ""
        level = f" at {self.level.label}" if self.level is not None else ""
        return f"{text}{where}{level}"


@dataclass(frozen=True)
class MessageExpectation:
    """The request the origin received or the response the client got:
    headers with exactly these values, present, absent; the body, or text
    it contains; trailers with exactly these values."""

    headers: HeaderValues = ()
    headers_present: tuple[bytes, ...] = ()
    headers_absent: tuple[bytes, ...] = ()
    body: bytes | None = None
    body_contains: bytes | None = None
    trailers: HeaderValues = ()


@dataclass(frozen=True)
class LocalReplyExpectation:
    """A local reply, and what it was (each field when given)."""

    status: int | None = None
    details: str | None = None
    plugin: str | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class StreamExpectations:
    status: int | None = None
    origin_reached: bool | None = None
    local_reply: bool | LocalReplyExpectation | None = None
    origin_received: MessageExpectation | None = None
    client_received: MessageExpectation | None = None
    logs: tuple[LogExpectation, ...] = ()
    stalled: bool | None = None
    reset: bool | None = None


@dataclass(frozen=True)
class DataExpectation:
    """What one side of a connection received: exactly ``data``, data that
    contains a text, a number of bytes, whether that side ended."""

    data: bytes | None = None
    data_contains: bytes | None = None
    size: int | None = None
    end_of_stream: bool | None = None


@dataclass(frozen=True)
class ConnectionExpectations:
    origin_received: DataExpectation | None = None
    client_received: DataExpectation | None = None
    closed_by: str | None = None
    stalled: bool | None = None
    logs: tuple[LogExpectation, ...] = ()


@dataclass(frozen=True)
class FailureExpectation:
    """A plugin expected to fail; where and how, when given (``error``: text
    the error line contains)."""

    plugin: str
    callback: str | None = None
    stream: str | None = None
    error: str | None = None

    def matches(self, failure: Failure) -> bool:
        return (failure.plugin == self.plugin
                and (self.callback is None or failure.callback == self.callback)
                and (self.stream is None or failure.stream == self.stream)
                and (self.error is None or self.error in failure.error))

    def describe(self) -> str:
        parts = [f"plugin {self.plugin} to fail"]
        if self.callback is not None:
            parts.append(f"in {self.callback}")
        if self.stream is not None:
            parts.append(f"(stream {self.stream})")
        if self.error is not None:
            parts.append(f"with an error containing {quoted(self.error)}")
        return " ".join(parts)


@dataclass(frozen=True)
class RunExpectations:
    """``failures``: the failures the run must have and may only have
    (``True``: any plugin may fail, none must); ``logs`` in order among all
    the lines; ``metrics`` by name."""

    failures: tuple[FailureExpectation, ...] | bool = ()
    logs: tuple[LogExpectation, ...] = ()
    metrics: tuple[tuple[str, MetricValue], ...] = ()

    @property
    def stated(self) -> bool:
        """Whether the scenario says anything beyond "no failures"."""
        return bool(self.failures) or bool(self.logs) or bool(self.metrics)


@dataclass(frozen=True)
class ScenarioExpectations:
    """Everything a scenario expects: of the run, of each stream and each
    connection (by name, in the scenario's order)."""

    run: RunExpectations = RunExpectations()
    streams: tuple[tuple[str, StreamExpectations], ...] = ()
    connections: tuple[tuple[str, ConnectionExpectations], ...] = ()

    @property
    def stated(self) -> bool:
        return self.run.stated or bool(self.streams) or bool(self.connections)


# --- reading them from a scenario document -----------------------------------------------------------


class DocumentShapes(Protocol):
    """The scenario reader's checks of shapes (``abi.frontends.scenario``),
    each raising a ``ScenarioError`` that names the key path."""

    def error(self, key_path: str, problem: str) -> ScenarioError: ...

    def mapping(self, value: Any, key_path: str, allowed: tuple[str, ...] | None = None) -> Mapping[str, Any]: ...

    def listing(self, value: Any, key_path: str, what: str) -> list[Any]: ...

    def text(self, value: Any, key_path: str) -> str: ...

    def integer(self, value: Any, key_path: str, minimum: int = 0, maximum: int | None = None) -> int: ...

    def boolean(self, value: Any, key_path: str) -> bool: ...

    def data(self, value: Any, key_path: str) -> bytes: ...

    def header_value(self, value: Any, key_path: str) -> str | bytes: ...


class ExpectationReader:
    """Reads ``expect`` mappings; plugin names are checked against the
    scenario's plugins, so a typo is an error when the file is loaded."""

    def __init__(self, shapes: DocumentShapes, plugins: set[str]) -> None:
        self.shapes = shapes
        self.plugins = plugins

    def run(self, value: Any, key_path: str = "expect") -> RunExpectations:
        if value is None:
            return RunExpectations()
        spec = self.shapes.mapping(value, key_path, RUN_KEYS)
        return RunExpectations(
            failures=self.failures(spec.get("failures"), join_key(key_path, "failures")),
            logs=self.logs(spec.get("logs"), join_key(key_path, "logs")),
            metrics=self.metrics(spec.get("metrics"), join_key(key_path, "metrics")),
        )

    def stream(self, value: Any, key_path: str) -> StreamExpectations:
        spec = self.shapes.mapping(value, key_path, STREAM_KEYS)
        return StreamExpectations(
            status=self._optional(spec, "status", key_path,
                                  lambda item, path: self.shapes.integer(item, path, 100, MAX_STATUS)),
            origin_reached=self._optional(spec, "origin_reached", key_path, self.shapes.boolean),
            local_reply=self._optional(spec, "local_reply", key_path, self.local_reply),
            origin_received=self._optional(spec, "origin_received", key_path, self.message),
            client_received=self._optional(spec, "client_received", key_path, self.message),
            logs=self.logs(spec.get("logs"), join_key(key_path, "logs")),
            stalled=self._optional(spec, "stalled", key_path, self.shapes.boolean),
            reset=self._optional(spec, "reset", key_path, self.shapes.boolean),
        )

    def connection(self, value: Any, key_path: str) -> ConnectionExpectations:
        spec = self.shapes.mapping(value, key_path, CONNECTION_KEYS)
        return ConnectionExpectations(
            origin_received=self._optional(spec, "origin_received", key_path, self.received_data),
            client_received=self._optional(spec, "client_received", key_path, self.received_data),
            closed_by=self._optional(spec, "closed_by", key_path, self.shapes.text),
            stalled=self._optional(spec, "stalled", key_path, self.shapes.boolean),
            logs=self.logs(spec.get("logs"), join_key(key_path, "logs")),
        )

    @staticmethod
    def _optional(spec: Mapping[str, Any], key: str, key_path: str, read: Callable[[Any, str], Any]) -> Any:
        return None if spec.get(key) is None else read(spec[key], join_key(key_path, key))

    def plugin_name(self, value: Any, key_path: str) -> str:
        name = self.shapes.text(value, key_path)
        if name not in self.plugins:
            raise self.shapes.error(key_path, f"no plugin named {name!r}")
        return name

    def failures(self, value: Any, key_path: str) -> tuple[FailureExpectation, ...] | bool:
        if isinstance(value, bool):
            return value
        failures = []
        for index, item in enumerate(self.shapes.listing(value, key_path, "plugin names or failures")):
            item_path = f"{key_path}[{index}]"
            if not isinstance(item, Mapping):
                failures.append(FailureExpectation(self.plugin_name(item, item_path)))
                continue
            spec = self.shapes.mapping(item, item_path, FAILURE_KEYS)
            if "plugin" not in spec:
                raise self.shapes.error(join_key(item_path, "plugin"), "missing: which plugin fails")
            failures.append(FailureExpectation(
                plugin=self.plugin_name(spec["plugin"], join_key(item_path, "plugin")),
                callback=self._optional(spec, "callback", item_path, self.shapes.text),
                stream=self._optional(spec, "stream", item_path, self.shapes.text),
                error=self._optional(spec, "error", item_path, self.shapes.text)))
        return tuple(failures)

    def logs(self, value: Any, key_path: str) -> tuple[LogExpectation, ...]:
        lines = []
        for index, item in enumerate(self.shapes.listing(value, key_path, "log lines")):
            item_path = f"{key_path}[{index}]"
            if not isinstance(item, Mapping):
                lines.append(LogExpectation(message=self.shapes.text(item, item_path)))
                continue
            spec = self.shapes.mapping(item, item_path, LOG_KEYS)
            if ("message" in spec) == ("contains" in spec):
                raise self.shapes.error(item_path, "give either message (the whole line) or contains")
            level = None
            if spec.get("level") is not None:
                try:
                    level = LogLevel.from_label(self.shapes.text(spec["level"], join_key(item_path, "level")))
                except ValueError:
                    raise self.shapes.error(join_key(item_path, "level"), "expected one of trace, debug, info, "
                                                                          "warn, error, critical") from None
            lines.append(LogExpectation(
                message=self._optional(spec, "message", item_path, self.shapes.text),
                contains=self._optional(spec, "contains", item_path, self.shapes.text),
                plugin=self._optional(spec, "plugin", item_path, self.plugin_name),
                level=level))
        return tuple(lines)

    def metrics(self, value: Any, key_path: str) -> tuple[tuple[str, MetricValue], ...]:
        if value is None:
            return ()
        metrics: list[tuple[str, MetricValue]] = []
        for name, expected in self.shapes.mapping(value, key_path).items():
            metric_path = join_key(key_path, name)
            if expected is None:
                metrics.append((name, None))
            elif isinstance(expected, Mapping):
                spec = self.shapes.mapping(expected, metric_path, HISTOGRAM_KEYS)
                if not spec:
                    raise self.shapes.error(metric_path, "give count, sum and/or values")
                histogram: list[tuple[str, Any]] = []
                for key in HISTOGRAM_KEYS:
                    if key == "values" and key in spec:
                        samples = self.shapes.listing(spec[key], join_key(metric_path, key), "numbers")
                        histogram.append((key, tuple(self.shapes.integer(sample, f"{join_key(metric_path, key)}"
                                                                                      f"[{position}]",
                                                                         maximum=MAX_COUNT)
                                                     for position, sample in enumerate(samples))))
                    elif key in spec:
                        histogram.append((key, self.shapes.integer(spec[key], join_key(metric_path, key),
                                                                   maximum=MAX_COUNT)))
                metrics.append((name, tuple(histogram)))
            else:
                metrics.append((name, self.shapes.integer(expected, metric_path, -MAX_COUNT - 1, MAX_COUNT)))
        return tuple(metrics)

    def local_reply(self, value: Any, key_path: str) -> bool | LocalReplyExpectation:
        if isinstance(value, bool):
            return value
        spec = self.shapes.mapping(value, key_path, LOCAL_REPLY_KEYS)
        return LocalReplyExpectation(
            status=self._optional(spec, "status", key_path,
                                  lambda item, path: self.shapes.integer(item, path, 100, MAX_STATUS)),
            details=self._optional(spec, "details", key_path, self.shapes.text),
            plugin=self._optional(spec, "plugin", key_path, self.plugin_name),
            body=self._optional(spec, "body", key_path, self.shapes.data))

    def message(self, value: Any, key_path: str) -> MessageExpectation:
        spec = self.shapes.mapping(value, key_path, MESSAGE_KEYS)
        return MessageExpectation(
            headers=self.header_values(spec.get("headers"), join_key(key_path, "headers")),
            headers_present=self.header_names(spec.get("headers_present"), join_key(key_path, "headers_present")),
            headers_absent=self.header_names(spec.get("headers_absent"), join_key(key_path, "headers_absent")),
            body=self._optional(spec, "body", key_path, self.shapes.data),
            body_contains=self._optional(spec, "body_contains", key_path, self.shapes.data),
            trailers=self.header_values(spec.get("trailers"), join_key(key_path, "trailers")),
        )

    def header_values(self, value: Any, key_path: str) -> HeaderValues:
        """``{name: value}``, or ``{name: [value, ...]}`` for a header that
        appears several times."""
        if value is None:
            return ()
        result = []
        for name, expected in self.shapes.mapping(value, key_path).items():
            item_path = join_key(key_path, name)
            values = self.shapes.listing(expected, item_path, "values") if isinstance(expected, list) else [expected]
            if not values:
                raise self.shapes.error(item_path, "expected at least one value (headers_absent says a header "
                                                   "is not there)")
            result.append((_header_name(name), tuple(as_bytes(self.shapes.header_value(item, f"{item_path}"
                                                                                             f"[{position}]"))
                                                     for position, item in enumerate(values))))
        return tuple(result)

    def header_names(self, value: Any, key_path: str) -> tuple[bytes, ...]:
        return tuple(_header_name(self.shapes.text(item, f"{key_path}[{index}]"))
                     for index, item in enumerate(self.shapes.listing(value, key_path, "header names")))

    def received_data(self, value: Any, key_path: str) -> DataExpectation:
        spec = self.shapes.mapping(value, key_path, DATA_KEYS)
        return DataExpectation(
            data=self._optional(spec, "data", key_path, self.shapes.data),
            data_contains=self._optional(spec, "data_contains", key_path, self.shapes.data),
            size=self._optional(spec, "bytes", key_path,
                                lambda item, path: self.shapes.integer(item, path, maximum=MAX_COUNT)),
            end_of_stream=self._optional(spec, "end_of_stream", key_path, self.shapes.boolean))


def _header_name(name: str) -> bytes:
    return ascii_lower(as_bytes(name))


# --- checking them -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unmet:
    """An expectation that did not hold: ``subject`` is the stream or
    connection it belongs to (``None``: the run), ``key`` where it is
    written within its ``expect``."""

    subject: str | None
    label: str
    key: str
    expected: str
    got: str
    unexpected_failure: bool = False

    def describe(self) -> str:
        return f"{self.label}: {self.key}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True)
class ExpectationResults:
    checked: int
    unmet: tuple[Unmet, ...]

    def of(self, subject: str | None) -> tuple[Unmet, ...]:
        """The unmet expectations of one stream or connection (``None``: the
        run's)."""
        return tuple(item for item in self.unmet if item.subject == subject)

    def without_unexpected_failures(self) -> ExpectationResults:
        """The results as if failures were expected (``--allow-failures``)."""
        kept = tuple(item for item in self.unmet if not item.unexpected_failure)
        return ExpectationResults(self.checked - (len(self.unmet) - len(kept)), kept)


@dataclass
class _Checks:
    """The checks of one subject, counted."""

    subject: str | None
    label: str
    checked: int = 0
    unmet: list[Unmet] = field(default_factory=list)

    def expect(self, key: str, holds: bool, expected: str, got: str, unexpected_failure: bool = False) -> None:
        self.checked += 1
        if not holds:
            self.unmet.append(Unmet(self.subject, self.label, key, expected, got, unexpected_failure))


def check_expectations(expectations: ScenarioExpectations, host: ProxyHost) -> ExpectationResults:
    """Check everything ``expectations`` says against the host after its
    run: the run's expectations first, then each stream's and connection's
    in the order they opened (with the failures that happened in them)."""
    subjects: dict[str | None, _Checks] = {None: _Checks(None, "scenario")}
    for stream in host.streams:
        subjects[stream.name] = _Checks(stream.name, f"stream {stream.name}")
    for connection in host.connections:
        subjects[connection.name] = _Checks(connection.name, f"connection {connection.name}")
    run = subjects[None]
    _check_expected_failures(run, expectations.run.failures, host.failures)
    _check_logs(run, "logs", expectations.run.logs, host.logs())
    for name, expected in expectations.run.metrics:
        _check_metric(run, name, expected, host.metric(name))
    streams = {stream.name: stream for stream in host.streams}
    for name, stream_expectations in expectations.streams:
        if name in streams:
            _check_stream(subjects[name], stream_expectations, streams[name], host)
        else:
            subjects[name] = _Checks(name, f"stream {name}")
            subjects[name].expect("expect", False, "the stream to run", "it never opened")
    connections = {connection.name: connection for connection in host.connections}
    for name, connection_expectations in expectations.connections:
        if name in connections:
            _check_connection(subjects[name], connection_expectations, connections[name], host)
        else:
            subjects[name] = _Checks(name, f"connection {name}")
            subjects[name].expect("expect", False, "the connection to run", "it never opened")
    _check_unexpected_failures(subjects, expectations.run.failures, host.failures)
    return ExpectationResults(sum(checks.checked for checks in subjects.values()),
                              tuple(item for checks in subjects.values() for item in checks.unmet))


def _check_expected_failures(run: _Checks, expected: tuple[FailureExpectation, ...] | bool,
                             failures: list[Failure]) -> None:
    """Every failure ``expect.failures`` names must have happened."""
    if isinstance(expected, bool):
        return
    for index, failure_expectation in enumerate(expected):
        of_plugin = [failure for failure in failures if failure.plugin == failure_expectation.plugin]
        got = "; ".join(_failure_text(failure) for failure in of_plugin) or \
            f"no failure of {failure_expectation.plugin}"
        run.expect(f"failures[{index}]", any(failure_expectation.matches(failure) for failure in failures),
                   failure_expectation.describe(), got)


def _check_unexpected_failures(subjects: dict[str | None, _Checks], expected: tuple[FailureExpectation, ...] | bool,
                               failures: list[Failure]) -> None:
    """Every failure must be one ``expect.failures`` names (unless it says
    ``true``); each counts for the stream or connection it happened in."""
    if expected is True:
        return
    listed = () if expected is False else expected
    for failure in failures:
        checks = subjects.get(failure.stream, subjects[None])
        checks.expect("failures", any(item.matches(failure) for item in listed),
                      "no plugin failure but those expect.failures lists", _failure_text(failure),
                      unexpected_failure=True)


def _failure_text(failure: Failure) -> str:
    where = f" (stream {failure.stream})" if failure.stream else ""
    return f"{failure.plugin} failing in {failure.callback}{where}: {failure.error}"


def _check_logs(checks: _Checks, key: str, expected: tuple[LogExpectation, ...], entries: list[LogEntry]) -> None:
    """Each expected line, in order, among the lines (others may come
    between them)."""
    position = 0
    after = ""
    for index, line in enumerate(expected):
        found = next((offset for offset, entry in enumerate(entries[position:], position) if line.matches(entry)),
                     None)
        if found is not None:
            checks.expect(f"{key}[{index}]", True, "", "")
            position = found + 1
            after = f" after {key}[{index}]"
            continue
        candidates = [entry for entry in entries[position:]
                      if (line.plugin is None or entry.plugin == line.plugin)
                      and (line.level is None or entry.level is line.level)]
        shown = ", ".join(quoted(entry.message, len(entry.message) + 2) for entry in candidates[:LISTED_LINES])
        more = f" and {len(candidates) - LISTED_LINES} more" if len(candidates) > LISTED_LINES else ""
        got = f"no such line{after}; the lines{after} were: {shown}{more}" if candidates else \
            f"no such line{after} (no {'matching ' if line.plugin or line.level else ''}lines{after})"
        checks.expect(f"{key}[{index}]", False, f"a log line {line.describe()}", got)


def _check_metric(checks: _Checks, name: str, expected: MetricValue, actual: int | dict[str, Any] | None) -> None:
    key = f"metrics.{name}"
    if expected is None:
        checks.expect(key, actual is None, "the metric never to be defined", f"{_metric_text(actual)}")
    elif isinstance(expected, int):
        checks.expect(key, actual == expected, str(expected), _metric_text(actual))
    elif not isinstance(actual, dict):
        wanted = ", ".join(f"{part} {list(value) if isinstance(value, tuple) else value}" for part, value in expected)
        checks.expect(key, False, f"a histogram with {wanted}", _metric_text(actual))
    else:
        for part, value in expected:
            got = actual.get(part)
            if isinstance(value, tuple):
                holds, shown = got is not None and tuple(got) == value, str(list(value))
            else:
                holds, shown = got == value, str(value)
            checks.expect(f"{key}.{part}", holds, f"{part} {shown}", _metric_text(actual))


def _metric_text(actual: int | dict[str, Any] | None) -> str:
    if actual is None:
        return "no such metric"
    if isinstance(actual, dict):
        return f"a histogram with count {actual['count']}, sum {actual['sum']}, values {actual['values']}"
    return str(actual)


def _check_stream(checks: _Checks, expected: StreamExpectations, stream: HttpStream, host: ProxyHost) -> None:
    response = stream.downstream_response
    if expected.status is not None:
        checks.expect("status", response is not None and response.status == expected.status,
                      str(expected.status), _status_text(stream))
    if expected.origin_reached is not None:
        reached = stream.upstream_request is not None
        checks.expect("origin_reached", reached == expected.origin_reached,
                      "the origin to be reached" if expected.origin_reached else "the origin never to be reached",
                      "the origin was reached" if reached else f"the origin was never reached{_why(stream)}")
    if expected.local_reply is not None:
        _check_local_reply(checks, expected.local_reply, stream)
    if expected.origin_received is not None:
        _check_message(checks, "origin_received", expected.origin_received, stream.upstream_request,
                       "the request at the origin", f"nothing: the origin was never reached{_why(stream)}")
    if expected.client_received is not None:
        _check_message(checks, "client_received", expected.client_received, response,
                       "a response at the client", f"nothing: the client got no response{_why(stream)}")
    _check_logs(checks, "logs", expected.logs, [entry for entry in host.logs() if entry.stream == stream.name])
    if expected.stalled is not None:
        checks.expect("stalled", bool(stream.stalled) == expected.stalled,
                      "a stall" if expected.stalled else "no stall",
                      f"a stall: {stream.stalled}" if stream.stalled else "no stall")
    if expected.reset is not None:
        checks.expect("reset", bool(stream.reset_reason) == expected.reset,
                      "a reset" if expected.reset else "no reset",
                      f"a reset: {stream.reset_reason}" if stream.reset_reason else "no reset")


def _why(stream: HttpStream) -> str:
    """What stopped a stream early, for messages."""
    reply = stream.local_response
    if reply is not None:
        return f" (local reply {reply.status} by {reply.plugin or 'the proxy'}: {readable(reply.details)})"
    if stream.stalled:
        return f" (stalled: {stream.stalled})"
    if stream.reset_reason:
        return f" (reset: {stream.reset_reason})"
    return ""


def _status_text(stream: HttpStream) -> str:
    response = stream.downstream_response
    if response is None:
        return f"no response{_why(stream)}"
    return f"{response.status}{_why(stream)}"


def _check_local_reply(checks: _Checks, expected: bool | LocalReplyExpectation, stream: HttpStream) -> None:
    reply = stream.local_response
    got = "no local reply" if reply is None else \
        f"a local reply {reply.status} by {reply.plugin or 'the proxy'}: {readable(reply.details)}"
    if isinstance(expected, bool):
        checks.expect("local_reply", (reply is not None) == expected,
                      "a local reply" if expected else "no local reply", got)
        return
    if reply is None:
        checks.expect("local_reply", False, "a local reply", got)
        return
    if expected.status is not None:
        checks.expect("local_reply.status", reply.status == expected.status, str(expected.status), str(reply.status))
    if expected.details is not None:
        checks.expect("local_reply.details", readable(reply.details) == expected.details,
                      quoted(expected.details), quoted(reply.details))
    if expected.plugin is not None:
        checks.expect("local_reply.plugin", reply.plugin == expected.plugin, expected.plugin,
                      reply.plugin or "the proxy itself")
    if expected.body is not None:
        checks.expect("local_reply.body", reply.body == expected.body, quoted(expected.body), quoted(reply.body))


def _check_message(checks: _Checks, key: str, expected: MessageExpectation, message: HttpMessage | None,
                   what: str, missing: str) -> None:
    if message is None:
        checks.expect(key, False, what, missing)
        return
    _check_header_values(checks, f"{key}.headers", expected.headers, message.headers)
    for name in expected.headers_present:
        checks.expect(f"{key}.headers_present", name in message.headers, f"header {readable(name)}",
                      f"no header {readable(name)}")
    for name in expected.headers_absent:
        values = _values(message.headers, name)
        checks.expect(f"{key}.headers_absent", not values, f"no header {readable(name)}",
                      f"{readable(name)}: {_values_text(values)}")
    if expected.body is not None:
        checks.expect(f"{key}.body", bytes(message.body) == expected.body,
                      f"{quoted(expected.body)} ({len(expected.body)} bytes)",
                      f"{quoted(message.body)} ({len(message.body)} bytes)")
    if expected.body_contains is not None:
        checks.expect(f"{key}.body_contains", expected.body_contains in message.body,
                      f"a body containing {quoted(expected.body_contains)}",
                      f"{quoted(message.body)} ({len(message.body)} bytes)")
    _check_header_values(checks, f"{key}.trailers", expected.trailers, message.trailers or HeaderMap())


def _check_header_values(checks: _Checks, key: str, expected: HeaderValues, headers: HeaderMap) -> None:
    for name, values in expected:
        actual = _values(headers, name)
        checks.expect(f"{key}.{readable(name)}", actual == values, _values_text(values),
                      _values_text(actual) if actual else f"no header {readable(name)}")


def _values(headers: HeaderMap, name: bytes) -> tuple[bytes, ...]:
    return tuple(value for entry, value in headers.wire_pairs() if entry == name)


def _values_text(values: tuple[bytes, ...]) -> str:
    return ", ".join(quoted(value) for value in values)


def _check_connection(checks: _Checks, expected: ConnectionExpectations, connection: NetworkConnection,
                      host: ProxyHost) -> None:
    for key, side, received in (("origin_received", expected.origin_received, connection.origin_received),
                                ("client_received", expected.client_received, connection.client_received)):
        if side is not None:
            _check_data(checks, key, side, received)
    if expected.closed_by is not None:
        checks.expect("closed_by", connection.closed_by == expected.closed_by, quoted(expected.closed_by),
                      quoted(connection.closed_by) if connection.closed_by else "still open")
    if expected.stalled is not None:
        checks.expect("stalled", bool(connection.stalled) == expected.stalled,
                      "a stall" if expected.stalled else "no stall",
                      f"a stall: {connection.stalled}" if connection.stalled else "no stall")
    _check_logs(checks, "logs", expected.logs,
                [entry for entry in host.logs() if entry.stream == connection.name])


def _check_data(checks: _Checks, key: str, expected: DataExpectation, received: PeerReceived) -> None:
    data = bytes(received.data)
    got = f"{quoted(data)} ({len(data)} bytes)"
    if expected.data is not None:
        checks.expect(f"{key}.data", data == expected.data, f"{quoted(expected.data)} ({len(expected.data)} bytes)",
                      got)
    if expected.data_contains is not None:
        checks.expect(f"{key}.data_contains", expected.data_contains in data,
                      f"data containing {quoted(expected.data_contains)}", got)
    if expected.size is not None:
        checks.expect(f"{key}.bytes", len(data) == expected.size, f"{expected.size} bytes", got)
    if expected.end_of_stream is not None:
        checks.expect(f"{key}.end_of_stream", received.end_of_stream == expected.end_of_stream,
                      "the end of the stream" if expected.end_of_stream else "no end of the stream",
                      "the end of the stream" if received.end_of_stream else "no end of the stream")
