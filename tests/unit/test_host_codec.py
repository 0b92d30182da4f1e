"""The host codec: every model round-trips, and untrusted input fails with a field path."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import inspect
import json
import random
from typing import Literal, NamedTuple

import pytest

import palyra_tui.models.bundle as bundle
import palyra_tui.models.console as console
import palyra_tui.models.devices as devices
import palyra_tui.models.gateway as gateway
import palyra_tui.models.handoff as handoff
import palyra_tui.models.logs as logs
import palyra_tui.models.run_events as run_events
import palyra_tui.models.services as services
from palyra_tui.errors import CodecError
from palyra_tui.host.codec import codec_for, decode, encode
from palyra_tui.models import (
    ExitInfo,
    HealthState,
    HealthStatus,
    LogCounters,
    LogLevel,
    LogLine,
    LogStream,
    ProcessStats,
    ServiceEvent,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)

PROMPT = gateway.ApprovalPrompt(
    title="Run a command",
    risk=gateway.RiskLevel.HIGH,
    subject_id="tool:palyra.process.run",
    summary="ls -la",
    options=(
        gateway.ApprovalOption("allow", "Allow", "once", True, gateway.DecisionScope.ONCE),
        gateway.ApprovalOption(
            "timebox", "Allow 5 min", "", False, gateway.DecisionScope.TIMEBOXED, 300_000
        ),
    ),
    timeout_seconds=60,
    details_json='{"argv": ["ls", "-la"]}',
    policy_explanation="process tools need approval",
)
SESSION = gateway.SessionSummary("01J0SESSION", session_key="main", title="Main", updated_at_ms=5)
RUN = "01J0RUNRUNRUNRUNRUNRUNRUNR"

SERVICE = ServiceSnapshot(
    name="gateway",
    kind=ServiceKind.GATEWAY,
    state=ServiceState.RUNNING,
    desired=True,
    pid=4242,
    started_at=1_000.5,
    restarts=2,
    attempt=1,
    max_restarts=5,
    next_attempt_at=None,
    last_exit=ExitInfo(code=None, signal=9, at=999.0, uptime=12.25),
    reason="restarted after a crash",
    health=HealthStatus(HealthState.HEALTHY, "ok", 1.5, "0.9.0", 1_001.0),
    stats=ProcessStats(cpu_percent=3.5, rss_bytes=10_000_000, threads=8, open_files=12),
    logs=LogCounters(total=10, retained=9, evicted=1, truncated=0, bytes_read=1234),
    binary="/usr/bin/palyrad",
    endpoints=(("grpc", "127.0.0.1:7443"), ("http", "127.0.0.1:7142")),
)

CUSTOM = ServiceSnapshot("custom", ServiceKind.CUSTOM, ServiceState.BACKOFF, True, held=True)


@dataclasses.dataclass(frozen=True, slots=True)
class EventBox:
    event: run_events.RunEvent
    maybe: run_events.RunEvent | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    name: str
    children: tuple[Node, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Extras:
    counts: dict[str, int]
    mode: Literal["fast", "safe"]
    pair: tuple[int, LogLevel]
    ratio: float = 0.5
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


@dataclasses.dataclass(frozen=True)
class Positive:
    value: int

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError("value must be positive")


class Point(NamedTuple):
    x: int
    y: int = 7


SAMPLES: list[object] = [
    LogLine(1, 1.5, "gateway", LogStream.STDOUT, "listening", LogLevel.INFO, "palyrad", ()),
    LogLine(2, 2.0, "gateway", LogStream.STDERR, "", None, None, (("k", "v"),), True, 0),
    LogLine(3, 2.5, "node", LogStream.SUPERVISOR, "lines lost", dropped=40),
    LogCounters(1, 2, 3, 4, 5),
    HealthStatus(),
    ExitInfo(code=3, signal=None, at=10.0, uptime=0.25),
    ProcessStats(),
    SERVICE,
    CUSTOM,
    SupervisorSnapshot(services=(SERVICE,), state_root="/srv/palyra", taken_at=77.0),
    SupervisorSnapshot(),
    ServiceEvent(5.0, "gateway", ServiceState.BACKOFF, None, "exited", SERVICE.last_exit, 2, 9.0),
    ServiceEvent(6.0, "worker", ServiceState.RUNNING, 77, held=True),
    bundle.SupportBundle("/srv/b.tar.gz", 4096, ("b/versions.txt", "b/logs/gateway.log")),
    bundle.BundleRequest("/home/ops/report.tar.gz"),
    devices.Inventory(
        1_700_000_000_000,
        (
            devices.Device(
                "01J0NODE",
                "node",
                "paired",
                devices.TrustState.TRUSTED,
                devices.Presence.STALE,
                1,
                2,
                400_000,
                "linux",
                (devices.Capability("echo", True, "automatic"),),
                ("last node heartbeat is stale",),
                1,
                "sha256:ab",
                9,
                "node.heartbeat",
            ),
        ),
        (devices.PairingRequest("01J0REQ", "01J0NODE", devices.PairingState.APPROVED),),
        1,
        3,
    ),
    devices.Capability("system.health", False),
    devices.Device("01J0OTHER"),
    devices.PairingRequest("01J0REQ2", "01J0NODE", devices.PairingState.PENDING_APPROVAL, "node"),
    devices.NodeStatus(),
    devices.PairingCode("123456", "pin", 99),
    devices.NodeOutcome(
        devices.NodeAction.REPAIR,
        devices.NodeStatus(True, True, "01J0NODE", "https://127.0.0.1:7444", 5, "installed"),
        "node host repaired and started",
        gateway_restarted=True,
    ),
    gateway.GatewayHealth("palyrad", "ok", "0.9.0", "abc123", "release", 42),
    SESSION,
    gateway.SessionPage((SESSION, gateway.SessionSummary("01J0OTHER")), "main"),
    gateway.ResolvedSession(SESSION, created=True, reset_applied=False),
    gateway.CleanedSession(None, False, False, "", 0),
    gateway.CleanedSession(SESSION, True, True, "main", 3),
    gateway.AbortResult(RUN, True, "operator"),
    PROMPT,
    PROMPT.options[1],
    gateway.Approval("01J0APPROVAL", run_id=RUN, prompt=PROMPT, scope=gateway.DecisionScope.ONCE),
    gateway.ApprovalPage((gateway.Approval("01J0A"),), "01J0A"),
    run_events.StatusEvent(RUN, gateway.RunStatus.FAILED, gateway.CANCELLED_MESSAGE),
    run_events.TokenEvent(RUN, "Hello, 世界 👋", True),
    run_events.ToolProposalEvent(RUN, "p1", "palyra.process.run", '{"argv":["ls"]}', True),
    run_events.ApprovalRequestEvent(RUN, "p1", "a1", "palyra.process.run", "{}", "ls", PROMPT),
    run_events.ApprovalResponseEvent(RUN, "p1", "a1", True, "ok", gateway.DecisionScope.SESSION, 0),
    run_events.ToolDecisionEvent(RUN, "p1", True, "allowed", True, True),
    run_events.ToolResultEvent(RUN, "p1", False, "", "exit 1"),
    run_events.ToolAttestationEvent(RUN, "p1", "att", "ab" * 32, 123, False, "sandbox"),
    gateway.ApprovalAnswer.allow_for(60_000),
    console.ConsoleSession("admin:local", "01J0DEVICE", "tui", "csrf-token", 1, 2),
    console.AdminStatus(
        "palyrad", "ok", "0.9.0", "abc", 5, True, True, "echo", 7443, "admin:local", (("runs", 3),)
    ),
    console.Diagnostics(9, ("disk almost full",), 2, ("models", "channels")),
    console.BrowserHandoff("http://127.0.0.1:7142/handoff?t=x", 99),
    handoff.HandoffScope.run("s", RUN),
    handoff.Handoff("http://127.0.0.1:7142/c?token=x", 9.5, "/#/chat", handoff.HandoffScope()),
    console.CatalogSession("s", "k", "t", "p", 1, RUN, "done", 0, False),
    console.TranscriptRecord(RUN, 1, "token", '{"t":"x"}', 5),
    console.Transcript("s", (console.TranscriptRecord(RUN, 1, "token", "{}", 5),)),
    EventBox(
        run_events.TokenEvent(RUN, "hi", False), run_events.StatusEvent(RUN, gateway.RunStatus.DONE)
    ),
    EventBox(run_events.ToolResultEvent(RUN, "p", True, "{}", "")),
    Node("root", (Node("a", (Node("a1"),)), Node("b"))),
    Extras({"x": 1, "y": 2}, "safe", (3, LogLevel.WARN), 0.25, ("t1", "t2")),
    Point(1, 2),
]


@pytest.mark.parametrize("value", SAMPLES, ids=lambda value: type(value).__name__)
def test_every_sample_round_trips(value: object) -> None:
    data = encode(value)
    back = decode(data, type(value))
    assert back == value
    assert type(back) is type(value)
    assert encode(back) == data  # fields that take no part in equality survive too


def test_every_model_record_has_a_round_trip_sample() -> None:
    covered = {type(value) for value in SAMPLES}
    records = {
        cls
        for module in (logs, services, gateway, console, handoff, bundle, devices)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
        and (dataclasses.is_dataclass(cls) or hasattr(cls, "_fields"))
    }
    assert records - covered == set()


def test_every_model_enum_member_round_trips() -> None:
    enums = {
        cls
        for module in (logs, services, gateway)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, enum.Enum) and cls.__module__ == module.__name__
    }
    assert len(enums) >= 10
    for cls in enums:
        codec = codec_for(cls)
        for member in cls:
            assert codec.decode(codec.encode(member)) is member


def test_wire_shape_is_plain_json_by_field_name() -> None:
    line = LogLine(7, 1.0, "gateway", LogStream.STDERR, "m", LogLevel.ERROR, fields=(("a", "b"),))
    assert json.loads(encode(line)) == {
        "seq": 7,
        "ts": 1.0,
        "service": "gateway",
        "stream": "stderr",
        "message": "m",
        "level": 4,
        "target": None,
        "fields": [["a", "b"]],
        "truncated": False,
        "dropped": 0,
    }
    box = json.loads(encode(EventBox(run_events.TokenEvent(RUN, "x", True))))
    assert box["event"] == {
        "type": "TokenEvent",
        "value": {"run_id": RUN, "text": "x", "is_final": True},
    }
    assert box["maybe"] is None


def test_a_tuple_of_records_is_a_table() -> None:
    lines = (
        LogLine(1, 1.0, "a", LogStream.STDOUT, "one", LogLevel.INFO),
        LogLine(2, 2.0, "b", LogStream.STDERR, "two", fields=(("k", "v"),)),
    )
    codec = codec_for(tuple[LogLine, ...])
    table = json.loads(codec.encode(lines))
    assert table["columns"] == list(LogLine._fields)
    assert table["rows"] == [
        [1, 1.0, "a", "stdout", "one", 2, None, [], False, 0],
        [2, 2.0, "b", "stderr", "two", None, None, [["k", "v"]], False, 0],
    ]
    # A peer of another version: columns reordered, one added, defaulted ones missing.
    other = {
        "columns": ["message", "seq", "new", "service", "stream", "ts"],
        "rows": [["one", 1, {"x": 1}, "a", "stdout", 1], ["two", 2, None, "b", "stderr", 2.0]],
    }
    assert codec.decode(json.dumps(other).encode()) == (
        LogLine(1, 1.0, "a", LogStream.STDOUT, "one"),
        LogLine(2, 2.0, "b", LogStream.STDERR, "two"),
    )
    other["columns"] = ["message", "seq", "new", "service", "stream", "tz"]
    with pytest.raises(CodecError, match=r"at \[0\]\.ts: the field is missing"):
        codec.decode(json.dumps(other).encode())


def test_batches_of_log_lines_round_trip() -> None:
    lines = tuple(
        LogLine(
            i, i / 3, "svc", LogStream.STDOUT, f"line {i}", LogLevel(i % 5), None, ((str(i), "v"),)
        )
        for i in range(500)
    )
    codec = codec_for(tuple[LogLine, ...])
    assert codec.decode(codec.encode(lines)) == lines


def test_text_that_is_not_plain_utf8_survives() -> None:
    weird = "é 世界 👋 \x00 \u202e \udcff \ud800"
    line = LogLine(1, 0.0, "svc", LogStream.STDOUT, weird, fields=((weird, weird),))
    assert decode(encode(line), LogLine) == line


def test_unknown_fields_are_ignored_and_absent_fields_take_their_defaults() -> None:
    data = json.dumps(
        {"seq": 1, "ts": 2, "service": "s", "stream": "stdout", "message": "m", "new": [1, {}]}
    ).encode()
    line = decode(data, LogLine)
    assert line == LogLine(1, 2.0, "s", LogStream.STDOUT, "m")
    assert type(line.ts) is float
    table = {
        "columns": ["name", "kind", "state", "desired", "future"],
        "rows": [["g", "gateway", "held", False, True]],
    }
    snapshot = decode(json.dumps({"services": table}).encode(), SupervisorSnapshot)
    assert snapshot.services[0].health == HealthStatus()
    assert snapshot.services[0].logs == LogCounters()
    extras = decode(b'{"counts": {}, "mode": "fast", "pair": [1, 0]}', Extras)
    assert extras.tags == () and extras.ratio == 0.5
    assert decode(b'{"x": 3}', Point) == Point(3, 7)


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        (
            b'{"services": {"columns": ["name"], "rows": [[1]]}}',
            "services[0].name",
            "expected a string, got 1",
        ),
        (
            b'{"services": {"columns": ["name"], "rows": [["g"]]}}',
            "services[0].kind",
            "the field is missing",
        ),
        (
            b'{"services": {"columns": ["name"], "rows": [["g", 1]]}}',
            "services[0]",
            "expected a row of 1 values, got an array",
        ),
        (b'{"services": []}', "services", "expected a table, got an array"),
        (
            b'{"services": {"rows": []}}',
            "services",
            "expected the column names of a table, got nothing",
        ),
        (b'{"services": {"columns": []}}', "services", "expected the rows of a table, got nothing"),
        (b"[]", "", "expected an object for SupervisorSnapshot, got an array"),
        (b'{"taken_at": "soon"}', "taken_at", "expected a number, got 'soon'"),
        (b'{"taken_at": true}', "taken_at", "expected a number, got True"),
    ],
)
def test_bad_input_names_the_field(data: bytes, path: str, reason: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode(data, SupervisorSnapshot)
    assert caught.value.path == path
    assert caught.value.reason == reason
    assert str(caught.value).startswith("cannot decode SupervisorSnapshot")


def test_deep_paths_name_every_step() -> None:
    raw = json.loads(encode(SupervisorSnapshot(services=(SERVICE, SERVICE))))
    columns = raw["services"]["columns"]
    raw["services"]["rows"][1][columns.index("health")]["state"] = "sleepy"
    with pytest.raises(
        CodecError, match=r"at services\[1\]\.health\.state: 'sleepy' is not a Heal"
    ):
        decode(json.dumps(raw).encode(), SupervisorSnapshot)
    raw = json.loads(encode(SERVICE))
    raw["endpoints"][1] = ["http", 80]
    with pytest.raises(CodecError, match=r"at endpoints\[1\]\[1\]: expected a string, got 80"):
        decode(json.dumps(raw).encode(), ServiceSnapshot)
    box = (
        b'{"event": {"type": "TokenEvent", "value": {"run_id": "r", "text": 5, "is_final": true}}}'
    )
    with pytest.raises(CodecError, match=r"at event<TokenEvent>\.text: expected a string"):
        decode(box, EventBox)
    with pytest.raises(CodecError, match=r"at event: type 'Nope' is not one of StatusEvent, Tok"):
        decode(b'{"event": {"type": "Nope", "value": {}}}', EventBox)
    with pytest.raises(CodecError, match=r"at counts\['b'\]: expected an integer, got 'x'"):
        decode(b'{"counts": {"a": 1, "b": "x"}, "mode": "fast", "pair": [1, 0]}', Extras)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"x": true}', r"at x: expected an integer, got True"),
        (b'{"x": 1.0}', r"at x: expected an integer, got 1.0"),
        (b'{"x": null}', r"at x: expected an integer, got null"),
        (b'{"y": 1}', r"at x: the field is missing"),
    ],
)
def test_types_are_strict(data: bytes, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        decode(data, Point)


def test_enums_literals_and_fixed_tuples_are_checked() -> None:
    base: dict[str, object] = {"counts": {}, "mode": "fast", "pair": [1, 2]}
    changes: list[tuple[dict[str, object], str]] = [
        ({"mode": "slow"}, r"at mode: 'slow' is not one of 'fast', 'safe'"),
        ({"mode": ["fast"]}, r"at mode: an array is not one of"),
        ({"pair": [1, 9]}, r"at pair\[1\]: 9 is not a LogLevel value"),
        ({"pair": [1, True]}, r"at pair\[1\]: True is not a LogLevel value"),
        ({"pair": [1]}, r"at pair: expected an array of 2, got an array"),
    ]
    for change, match in changes:
        with pytest.raises(CodecError, match=match):
            decode(json.dumps({**base, **change}).encode(), Extras)


def test_a_value_its_class_rejects_is_a_codec_error() -> None:
    assert decode(b'{"value": 3}', Positive) == Positive(3)
    with pytest.raises(CodecError, match=r"Positive rejected the value: value must be positive"):
        decode(b'{"value": 0}', Positive)


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"\xff\xfe", b"nul", b"[" * 100_000, b"1" * 5_000, b'{"services": [' * 3_000],
)
def test_bytes_that_are_not_json_are_a_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError, match="cannot decode SupervisorSnapshot"):
        decode(data, SupervisorSnapshot)


def test_types_the_codec_cannot_carry_are_refused_up_front() -> None:
    @dataclasses.dataclass(frozen=True)
    class Listy:
        items: list[int]

    class Floaty(enum.Enum):
        HALF = 0.5

    for tp in (Listy, Floaty, bytes, set):
        with pytest.raises(CodecError, match="the codec c"):
            codec_for(tp)


def _mutate(node: object, rng: random.Random) -> object:
    """One random change somewhere in a decoded JSON document."""
    junk: list[object] = [None, True, 0, -1, 2**70, 1.5, "", "x", "running", [], {}, [[]], {"a": 1}]
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        roll = rng.random()
        if roll < 0.15:
            del node[key]
        elif roll < 0.25:
            node[f"extra{rng.randrange(9)}"] = rng.choice(junk)
        else:
            node[key] = _mutate(node[key], rng)
        return node
    if isinstance(node, list) and node and rng.random() < 0.8:
        index = rng.randrange(len(node))
        node[index] = _mutate(node[index], rng)
        return node
    return rng.choice(junk)


def test_fuzzed_documents_decode_or_fail_cleanly() -> None:
    rng = random.Random(20261202)
    original = encode(SupervisorSnapshot(services=(SERVICE, CUSTOM), state_root="/x"))
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(3_000):
        document = json.loads(original)
        for _ in range(rng.randint(1, 3)):
            document = _mutate(document, rng)
        try:
            value = decode(json.dumps(document).encode(), SupervisorSnapshot)
        except CodecError as error:
            assert str(error).startswith("cannot decode SupervisorSnapshot")
            outcomes["refused"] += 1
        else:
            assert isinstance(value, SupervisorSnapshot)
            outcomes["decoded"] += 1
    assert outcomes["decoded"] > 100 and outcomes["refused"] > 100


def test_fuzzed_bytes_fail_cleanly() -> None:
    rng = random.Random(7)
    original = bytearray(encode(LogLine(1, 1.0, "s", LogStream.STDOUT, "message", LogLevel.INFO)))
    for _ in range(3_000):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        with contextlib.suppress(CodecError):
            assert isinstance(decode(bytes(data), LogLine), LogLine)


def test_generated_decoders_agree_with_the_checked_loop() -> None:
    """Whatever the fast paths accept, the reference loop decodes to the same value."""
    from palyra_tui.host.codec import _plan
    from palyra_tui.host.codec_base import Invalid
    from palyra_tui.host.codec_records import row_decoder

    plan = _plan(LogLine)
    assert plan.table is not None
    by_name = row_decoder(plan.table.columns, plan.table.checked)
    pairs = [(plan.decode, plan.table.checked), (plan.table.decode_row, by_name)]
    rng = random.Random(11)
    line = LogLine(1, 1.5, "s", LogStream.STDERR, "m", LogLevel.WARN, "t", (("k", "v"),))
    samples = [
        json.loads(encode(line)),
        json.loads(codec_for(tuple[LogLine, ...]).encode((line,)))["rows"][0],
    ]
    accepted = 0
    for _ in range(2_000):
        for (fast, reference), sample in zip(pairs, samples, strict=True):
            raw = _mutate(json.loads(json.dumps(sample)), rng)
            try:
                value = fast(raw)
            except Invalid:
                continue
            accepted += 1
            assert reference(raw) == value, raw
    assert accepted > 500
