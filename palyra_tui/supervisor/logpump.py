"""Turn a process's raw output into stored log lines.

Bytes arrive in chunks of up to 64 KiB.  Complete lines are decoded, sanitized
and redacted a whole chunk at a time (one regex pass per chunk, not per line),
then split.  A line longer than the cap is cut with a visible mark; the rest of
it, up to the next newline, is counted and discarded without being buffered,
so a 200 KB line costs no more memory than a 16 KiB one.
"""

from __future__ import annotations

from collections.abc import Callable

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.supervisor.logbuffer import LogWriter
from palyra_tui.supervisor.logparse import parse_json_line
from palyra_tui.text import MARK, Redactor, decode, sanitize
from palyra_tui.text.redact import ends_private_key, starts_private_key

LINE_CAP = 16 * 1024
TRUNCATION_MARK = " ... [truncated]"
"""ASCII, so a cut line stays a one-byte-per-character string."""
ENDPOINT_KEYS = frozenset(
    {"listen_addr", "grpc_listen_addr", "node_rpc_listen_addr", "quic_listen_addr"}
)

_LEVEL_WORDS: tuple[tuple[str, LogLevel], ...] = (
    (" INFO ", LogLevel.INFO),
    (" WARN ", LogLevel.WARN),
    (" ERROR ", LogLevel.ERROR),
    (" DEBUG ", LogLevel.DEBUG),
    (" TRACE ", LogLevel.TRACE),
)


class LinePump:
    """Splits, cleans and stores the output of one stream of one process.

    ``on_endpoint`` is called with ``(key, address)`` whenever a JSON log line
    announces a bound address (``listen_addr`` and friends, interfaces §4.6).
    """

    def __init__(
        self,
        writer: LogWriter,
        stream: LogStream,
        redactor: Redactor,
        clock: Callable[[], float],
        *,
        line_cap: int = LINE_CAP,
        on_endpoint: Callable[[str, str], None] | None = None,
    ) -> None:
        self._writer = writer
        self._stream = stream
        self._redactor = redactor
        self._clock = clock
        self._cap = line_cap
        self._on_endpoint = on_endpoint
        self._pending = b""
        self._discarding = False
        self._in_private_key = False

    def feed(self, data: bytes) -> None:
        """Take a chunk of output; store every line it completes.

        Nothing a process prints may stop the pump: if a chunk cannot be
        processed, a supervisor line says how many bytes were lost and the pump
        starts over at the next line.
        """
        if not data:
            return
        try:
            self._feed(data)
        except Exception as exc:
            self._pending = b""
            self._discarding = True
            self._writer.note(
                self._clock(),
                f"could not process {len(data):,} bytes of output ({type(exc).__name__}); "
                "skipped to the next line",
                LogLevel.ERROR,
            )
            self._writer.append((), bytes_read=len(data))

    def _feed(self, data: bytes) -> None:
        buffer = self._pending + data if self._pending else data
        cut = buffer.rfind(b"\n")
        truncated: list[str] = []
        if cut == -1:
            self._pending = buffer
            if self._discarding:
                self._pending = b""
            elif len(buffer) > self._cap:
                truncated.append(self._cut_overlong(buffer))
                self._pending = b""
                self._discarding = True
            self._store("", truncated, len(data))
            return
        complete = buffer[:cut]
        self._pending = buffer[cut + 1 :]
        if self._discarding:
            end = complete.find(b"\n")
            complete = b"" if end == -1 else complete[end + 1 :]
            self._discarding = False
            if end == -1:
                self._store("", truncated, len(data), skip_text=True)
                self._check_pending()
                return
        text = self._redactor.redact(sanitize(decode(complete)))
        self._store(text, truncated, len(data))
        self._check_pending()

    def finish(self) -> None:
        """End of stream: store a last line that had no newline."""
        if self._pending and not self._discarding:
            text = self._redactor.redact(sanitize(decode(self._pending)))
            self._store(text, [], 0)
        self._pending = b""
        self._discarding = False

    def _check_pending(self) -> None:
        if len(self._pending) > self._cap:
            line = self._cut_overlong(self._pending)
            self._pending = b""
            self._discarding = True
            self._store("", [line], 0)

    def _cut_overlong(self, data: bytes) -> str:
        text = sanitize(decode(data[: self._cap]))
        return self._redactor.truncated_tail(self._redactor.redact(text))

    def _store(
        self, text: str, truncated: list[str], bytes_read: int, *, skip_text: bool = False
    ) -> None:
        raw_lines = [] if skip_text else text.split("\n")
        if self._in_private_key or "PRIVATE KEY-----" in text:
            raw_lines = self._hide_private_keys(raw_lines)
        now = self._clock()
        writer = self._writer
        service = writer.service
        stream = self._stream
        cap = self._cap
        lines: list[LogLine] = []
        cut_count = 0
        seq = writer.next_seq
        for raw in raw_lines:
            if not raw:
                continue
            was_cut = False
            if len(raw) > cap:
                raw = raw[:cap]
                was_cut = True
                cut_count += 1
            if raw[0] == "{":
                parsed = parse_json_line(raw, self._redactor) if not was_cut else None
                if parsed is not None:
                    if self._on_endpoint is not None:
                        self._report_endpoints(parsed.fields)
                    lines.append(
                        LogLine(
                            seq,
                            now,
                            service,
                            stream,
                            parsed.message,
                            parsed.level,
                            parsed.target,
                            parsed.fields,
                        )
                    )
                    seq += 1
                    continue
            if was_cut:
                raw += TRUNCATION_MARK
            lines.append(
                LogLine(seq, now, service, stream, raw, _guess_level(raw), None, (), was_cut)
            )
            seq += 1
        for raw in truncated:
            lines.append(
                LogLine(
                    seq,
                    now,
                    service,
                    stream,
                    raw + TRUNCATION_MARK,
                    _guess_level(raw),
                    None,
                    (),
                    True,
                )
            )
            seq += 1
            cut_count += 1
        writer.next_seq = seq
        writer.append(lines, bytes_read=bytes_read, truncated=cut_count)

    def _hide_private_keys(self, raw_lines: list[str]) -> list[str]:
        kept: list[str] = []
        for raw in raw_lines:
            if self._in_private_key:
                if ends_private_key(raw):
                    self._in_private_key = False
                kept.append(MARK)
            elif starts_private_key(raw):
                self._in_private_key = not ends_private_key(raw)
                kept.append(f"{raw[: raw.find('-----BEGIN')]}{MARK}")
            else:
                kept.append(raw)
        return kept

    def _report_endpoints(self, fields: tuple[tuple[str, str], ...]) -> None:
        assert self._on_endpoint is not None
        for key, value in fields:
            if key in ENDPOINT_KEYS:
                self._on_endpoint(key, value)


def _guess_level(text: str) -> LogLevel | None:
    """Find a level word in a plain-text line's first 64 characters."""
    head = f" {text[:64]} "
    for word, level in _LEVEL_WORDS:
        if word in head:
            return level
    return None
