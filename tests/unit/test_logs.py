"""Log capture: chunking, the line cap, sanitizing, redaction, JSON, rings and gaps."""

from __future__ import annotations

import json

from palyra_tui.models import LogLevel, LogStream
from palyra_tui.supervisor.logbuffer import LogStore
from palyra_tui.supervisor.logpump import LINE_CAP, TRUNCATION_MARK, LinePump
from palyra_tui.text import MARK, Redactor


def pump(
    store: LogStore, *, secrets: tuple[str, ...] = (), cap: int = LINE_CAP
) -> tuple[LinePump, list[tuple[str, str]]]:
    endpoints: list[tuple[str, str]] = []
    writer = store.add_service("svc")
    line_pump = LinePump(
        writer,
        LogStream.STDOUT,
        Redactor(secrets),
        lambda: 100.0,
        line_cap=cap,
        on_endpoint=lambda key, value: endpoints.append((key, value)),
    )
    return line_pump, endpoints


def texts(store: LogStore) -> list[str]:
    return [line.text for line in store.tail("svc", 1000)]


def test_lines_split_across_chunks_are_joined() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    for chunk in (b"hel", b"lo\nwor", b"ld\n", b"tail without newline"):
        line_pump.feed(chunk)
    assert texts(store) == ["hello", "world"]
    line_pump.finish()
    assert texts(store) == ["hello", "world", "tail without newline"]
    seqs = [line.seq for line in store.tail("svc", 10)]
    assert seqs == [1, 2, 3]


def test_overlong_line_is_cut_with_a_mark_and_counted() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store, cap=1024)
    data = b"x" * 200_000 + b"\nnext\n"
    for start in range(0, len(data), 65536):
        line_pump.feed(data[start : start + 65536])
    lines = store.tail("svc", 10)
    assert [line.text for line in lines][-1] == "next"
    assert len(lines) == 2
    assert lines[0].truncated
    assert lines[0].text.endswith(TRUNCATION_MARK)
    assert len(lines[0].text) == 1024 + len(TRUNCATION_MARK)
    assert lines[0].text.isascii(), "an ASCII line stays one byte per character"
    counters = store.counters("svc")
    assert counters.truncated == 1
    assert counters.bytes_read == len(data)


def test_overlong_line_inside_one_chunk_is_cut_too() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store, cap=100)
    line_pump.feed(b"a" * 300 + b"\nb\n")
    lines = store.tail("svc", 10)
    assert lines[0].truncated and lines[0].text.startswith("a" * 100)
    assert lines[1].text == "b"


def test_secret_split_across_chunks_and_cut_by_the_cap_does_not_leak() -> None:
    secret = "S3CRET-0123456789"
    store = LogStore(100)
    line_pump, _ = pump(store, secrets=(secret,), cap=64)
    line_pump.feed(f"first {secret[:6]}".encode())
    line_pump.feed(f"{secret[6:]} end\n".encode())
    line_pump.feed(("y" * 58 + secret).encode() + b"\n")
    joined = "\n".join(texts(store))
    assert secret not in joined
    assert secret[:8] not in joined
    assert f"first {MARK} end" in joined


def test_escapes_are_removed_and_empty_lines_dropped() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(b"\x1b]52;c;ZXZpbA==\x07clip\r\n\x1b[2J\n\xff bad utf8\n\n")
    assert texts(store) == ["clip", "\ufffd bad utf8"]


def test_palyrad_json_lines_are_parsed() -> None:
    store = LogStore(100)
    line_pump, endpoints = pump(store)
    record = {
        "timestamp": "2026-11-21T10:00:00Z",
        "level": "WARN",
        "fields": {"message": "daemon listening", "listen_addr": "127.0.0.1:7142", "n": 3},
        "target": "palyra_daemon::app",
    }
    line_pump.feed(json.dumps(record).encode() + b"\n")
    (line,) = store.tail("svc", 10)
    assert line.message == "daemon listening"
    assert line.level is LogLevel.WARN
    assert line.target == "palyra_daemon::app"
    assert line.fields == (("listen_addr", "127.0.0.1:7142"), ("n", "3"))
    assert line.text == "daemon listening listen_addr=127.0.0.1:7142 n=3"
    assert endpoints == [("listen_addr", "127.0.0.1:7142")]


def test_json_escapes_cannot_smuggle_controls_or_secrets() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    record = (
        '{"level":"INFO","fields":{"message":"a\\u001b]52;c;x\\u0007b","\\u0074oken":"abc123"}}'
    )
    line_pump.feed(record.encode() + b"\n")
    (line,) = store.tail("svc", 1)
    assert "\x1b" not in line.text and "\x07" not in line.text
    assert "abc123" not in line.text
    assert line.text.endswith(f"token={MARK}")


def test_multi_word_secret_values_in_json_are_hidden_whole() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    record = {"fields": {"message": "m", "password": "correct horse battery", "user": "ops"}}
    line_pump.feed(json.dumps(record).encode() + b"\n")
    (line,) = store.tail("svc", 1)
    assert line.fields == (("password", MARK), ("user", "ops"))
    assert "horse" not in line.text


def test_output_that_breaks_the_parser_loses_nothing_else() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    nested = "{" + '"a":' + "[" * 3000 + "]" * 3000 + "}"
    line_pump.feed(f"before\n{nested}\nafter\n".encode())
    texts_seen = texts(store)
    assert texts_seen[0] == "before" and texts_seen[-1] == "after"
    assert len(texts_seen) == 3


def test_plain_lines_get_a_guessed_level_and_broken_json_stays_text() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(b"2026-11-21 ERROR boom\n{not json\n")
    first, second = store.tail("svc", 2)
    assert first.level is LogLevel.ERROR
    assert second.text == "{not json" and second.level is None


def test_private_key_blocks_are_hidden() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(b"key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nabc\n")
    line_pump.feed(b"-----END PRIVATE KEY-----\nafter\n")
    assert texts(store) == [f"key: {MARK}", MARK, MARK, MARK, "after"]


def test_ring_evicts_and_counts() -> None:
    store = LogStore(3)
    line_pump, _ = pump(store)
    line_pump.feed(b"".join(f"l{i}\n".encode() for i in range(10)))
    assert texts(store) == ["l7", "l8", "l9"]
    counters = store.counters("svc")
    assert (counters.total, counters.retained, counters.evicted) == (10, 3, 7)


def test_since_reports_a_gap_for_lines_no_longer_held() -> None:
    store = LogStore(3)
    line_pump, _ = pump(store)
    line_pump.feed(b"".join(f"l{i}\n".encode() for i in range(10)))
    batch = store.since("svc", 2)
    assert batch[0].is_gap and batch[0].dropped == 5
    assert "5 lines dropped" in batch[0].text
    assert [line.text for line in batch[1:]] == ["l7", "l8", "l9"]
    assert store.since("svc", 10) == ()
    limited = store.since("svc", 7, limit=1)
    assert limited[0].dropped == 2 and limited[1].text == "l9"


def test_tail_by_stream_and_merge_by_time() -> None:
    store = LogStore(10)
    out = store.add_service("a")
    err = store.add_service("b")
    out.note(1.0, "a1")
    err.note(0.5, "b0")
    out.note(2.0, "a2")
    assert [line.text for line in store.merged()] == ["b0", "a1", "a2"]
    assert store.tail("a", 5, LogStream.STDOUT) == ()
    assert [line.text for line in store.tail("a", 5, LogStream.SUPERVISOR)] == ["a1", "a2"]
