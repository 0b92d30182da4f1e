"""Log capture: chunking, the line cap, sanitizing, redaction, JSON, rings and gaps."""

from __future__ import annotations

import gc
import json
import tracemalloc

from palyra_tui.models import LogLevel, LogStream
from palyra_tui.models.logs import line_bytes
from palyra_tui.supervisor.logbuffer import LogStore
from palyra_tui.supervisor.logpump import LINE_CAP, TRUNCATION_MARK, LinePump
from palyra_tui.text import MARK, Redactor
from palyra_tui.text.pem import MAX_BLOCK_BYTES, MAX_BLOCK_LINES


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


def wide_lines(service: str, count: int, width: int, start: int = 0) -> bytes:
    return b"".join(
        f"{service} {index} ".encode().ljust(width, b"w") + b"\n"
        for index in range(start, start + count)
    )


def test_bytes_held_never_exceed_the_budgets_and_the_oldest_lines_rotate_out() -> None:
    service_budget, total_budget = 64 * 1024, 160 * 1024
    store = LogStore(10_000, service_bytes=service_budget, total_bytes=total_budget)
    pumps = {
        name: LinePump(store.add_service(name), LogStream.STDOUT, Redactor(), lambda: 1.0)
        for name in ("a", "b", "c", "d")
    }
    for round_ in range(40):
        for name, line_pump in pumps.items():
            line_pump.feed(wide_lines(name, 5, 2048, start=round_ * 5))
            held = [store.counters(each).retained_bytes for each in pumps]
            assert max(held) <= service_budget
            assert sum(held) == store.bytes_held() <= total_budget
    for name in pumps:
        counters = store.counters(name)
        kept = store.tail(name, 10_000)
        assert counters.total == 200 and counters.evicted == 200 - len(kept) > 0
        assert [int(line.text.split()[1]) for line in kept] == list(range(200 - len(kept), 200))
        assert counters.retained_bytes == sum(line_bytes(line) for line in kept)
        assert store.since(name, 0)[0].dropped == counters.evicted


def test_one_service_keeps_within_its_own_byte_budget() -> None:
    store = LogStore(10_000, service_bytes=48 * 1024, total_bytes=1024 * 1024)
    line_pump = LinePump(store.add_service("svc"), LogStream.STDOUT, Redactor(), lambda: 1.0)
    for round_ in range(30):
        line_pump.feed(wide_lines("svc", 4, 3000, start=round_ * 4))
        assert store.counters("svc").retained_bytes <= 48 * 1024
    kept = store.tail("svc", 10_000)
    assert [int(line.text.split()[1]) for line in kept] == list(range(120 - len(kept), 120))
    assert store.counters("svc").evicted == 120 - len(kept) > 0


def test_the_total_budget_takes_from_the_service_holding_the_most() -> None:
    store = LogStore(10_000, service_bytes=1024 * 1024, total_bytes=96 * 1024)
    quiet = LinePump(store.add_service("quiet"), LogStream.STDOUT, Redactor(), lambda: 1.0)
    loud = LinePump(store.add_service("loud"), LogStream.STDOUT, Redactor(), lambda: 1.0)
    quiet.feed(wide_lines("quiet", 5, 1000))
    loud.feed(wide_lines("loud", 500, 1000))
    quiet.feed(wide_lines("quiet", 5, 1000, start=5))
    assert store.counters("quiet").retained == 10
    assert store.counters("loud").evicted > 0
    assert store.bytes_held() <= 96 * 1024


def test_a_line_costs_at_least_what_python_holds_for_it() -> None:
    gc.collect()
    tracemalloc.start()
    store = LogStore(100_000, service_bytes=10**9, total_bytes=10**9)
    writer = store.add_service("svc")
    for index in range(2000):
        writer.note(1.0 + index, f"{index} " + "x" * (index % 300))
    line_pump = LinePump(writer, LogStream.STDERR, Redactor(), lambda: 1.0)
    for index in range(2000):
        fields = {"message": "m é"} | {f"key{n}": f"välue {index} {n}" for n in range(index % 7)}
        record = {"level": "INFO", "target": f"target::{index}", "fields": fields}
        line_pump.feed(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    gc.collect()
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert store.counters("svc").retained == 4000
    assert store.bytes_held() >= allocated


def test_a_pem_header_inside_a_line_does_not_hide_what_follows() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(b"docs: -----BEGIN RSA PRIVATE KEY----- is the header\n")
    line_pump.feed(b"next line\nand another\n")
    assert texts(store) == [
        "docs: -----BEGIN RSA PRIVATE KEY----- is the header",
        "next line",
        "and another",
    ]
    assert store.counters("svc").hidden == 0


def test_a_key_block_after_a_log_prefix_is_hidden_and_counted() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(
        b"2026-11-21T10:00:00.123Z  INFO palyra::tls: -----BEGIN EC PRIVATE KEY-----\n"
        b"MHcCAQEEIBkg\nAwEHoUQDQgAE\n-----END EC PRIVATE KEY-----\nafter\n"
    )
    assert texts(store) == [
        f"2026-11-21T10:00:00.123Z  INFO palyra::tls: {MARK}",
        MARK,
        MARK,
        MARK,
        "after",
    ]
    assert store.counters("svc").hidden == 3


def test_an_unclosed_key_block_is_capped_and_the_stream_shows_again() -> None:
    store = LogStore(1000)
    line_pump, _ = pump(store)
    line_pump.feed(b"-----BEGIN PRIVATE KEY-----\n")
    for index in range(MAX_BLOCK_LINES + 20):
        line_pump.feed(f"daemon output {index}\n".encode())
    lines = store.tail("svc", 1000)
    assert [line.text for line in lines[: MAX_BLOCK_LINES + 1]] == [MARK] * (MAX_BLOCK_LINES + 1)
    note = lines[MAX_BLOCK_LINES + 1]
    assert note.stream is LogStream.SUPERVISOR and note.level is LogLevel.WARN
    assert f"hid {MAX_BLOCK_LINES} lines" in note.text
    assert [line.text for line in lines[MAX_BLOCK_LINES + 2 :]] == [
        f"daemon output {index}" for index in range(MAX_BLOCK_LINES, MAX_BLOCK_LINES + 20)
    ]
    assert store.counters("svc").hidden == MAX_BLOCK_LINES


def test_a_key_block_is_capped_by_bytes_too() -> None:
    store = LogStore(1000)
    line_pump, _ = pump(store)
    line_pump.feed(b"-----BEGIN PRIVATE KEY-----\n" + b"k" * 8000 + b"\n")
    line_pump.feed((b"k" * 8000 + b"\n") * 10 + b"shown\n")
    hidden = store.counters("svc").hidden
    assert hidden == -(-MAX_BLOCK_BYTES // 8001)
    assert texts(store)[-1] == "shown"


def test_a_json_line_ends_a_key_block() -> None:
    store = LogStore(100)
    line_pump, _ = pump(store)
    line_pump.feed(b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n")
    line_pump.feed(b'{"level":"INFO","fields":{"message":"daemon listening"}}\n')
    shown = texts(store)
    assert shown[:2] == [MARK, MARK]
    assert "hid 1 line" in shown[2]
    assert shown[3] == "daemon listening"


def test_a_secret_split_by_a_zero_width_character_is_caught_after_sanitizing() -> None:
    secret = "zw-secret-0123456789"
    store = LogStore(100)
    line_pump, _ = pump(store, secrets=(secret,))
    split = f"{secret[:5]}\u200b{secret[5:]}"
    line_pump.feed(f"plain {split} end\nmark\u200bkept\n".encode())
    line_pump.feed(json.dumps({"fields": {"message": f"json {split}"}}).encode() + b"\n")
    shown = texts(store)
    assert shown[0] == f"plain {MARK} end"
    assert shown[1] == "mark\\u200bkept"
    assert shown[2] == f"json {MARK}"
    for line in shown:
        assert secret[5:] not in line
