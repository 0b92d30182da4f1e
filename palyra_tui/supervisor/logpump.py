"""Turn a process's raw output into stored log lines.

Bytes arrive in chunks of up to 64 KiB.  Complete lines are decoded, sanitized
and redacted a whole chunk at a time (one regex pass per chunk, not per line),
then split.  A line longer than the cap is cut with a visible mark; the rest of
it, up to the next newline, is counted and discarded without being buffered,
so a 200 KB line costs no more memory than a 16 KiB one.

Redaction runs after sanitizing, on the text an operator will read.  Private
keys printed over several lines are hidden per stream by
:class:`~palyra_tui.text.pem.KeyBlocks`; its notes (a block cut at the cap)
are stored as supervisor lines where they happened, and the hidden lines are
counted in the service's log counters.
"""

from __future__ import annotations

from collections.abc import Callable

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.supervisor.logbuffer import LogWriter
from palyra_tui.supervisor.logparse import parse_json_line
from palyra_tui.text import Redactor, decode, sanitize
from palyra_tui.text.pem import KeyBlocks

LINE_CAP = 16 * 1024
TRUNCATION_MARK = " ... [truncated]"
"""ASCII, so a cut line stays a one-byte-per-character string."""
ENDPOINT_KEYS = frozenset(
    {
        "listen_addr",
        "grpc_listen_addr",
        "node_rpc_listen_addr",
        "quic_listen_addr",
        "node_rpc_mtls_required",
    }
)
"""The bound addresses a daemon announces, and whether its node RPC asks for client
certificates (``true``/``false``)."""

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
    announces a bound address (``listen_addr``, ``grpc_listen_addr`` and the like).
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
        self._keys = KeyBlocks()

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
        now = self._clock()
        writer = self._writer
        lines: list[LogLine] = []
        seq = writer.next_seq
        keys = self._keys
        hidden = cut_count = 0
        if not skip_text:
            raw_lines = text.split("\n")
            if keys.inside or "PRIVATE KEY-----" in text:
                seq, cut_count, hidden = self._hide_and_build(raw_lines, False, now, seq, lines)
            else:
                seq, cut_count = self._build(raw_lines, now, seq, lines)
        if truncated:
            if keys.inside:
                seq, cut, hid = self._hide_and_build(truncated, True, now, seq, lines)
            else:
                seq, cut = self._build_cut(truncated, now, seq, lines)
                hid = 0
            cut_count += cut
            hidden += hid
        writer.next_seq = seq
        writer.append(lines, bytes_read=bytes_read, truncated=cut_count, hidden=hidden)

    def _hide_and_build(
        self, raw_lines: list[str], precut: bool, now: float, seq: int, lines: list[LogLine]
    ) -> tuple[int, int, int]:
        """Like :meth:`_build`, with private-key blocks hidden and the notes about
        them stored where they belong; also returns how many lines were hidden."""
        result = self._keys.hide(raw_lines)
        build = self._build_cut if precut else self._build
        kept = result.lines
        cut_count = 0
        start = 0
        for index, note in result.notes:
            seq, cut = build(kept[start:index], now, seq, lines)
            cut_count += cut
            lines.append(
                LogLine(seq, now, self._writer.service, LogStream.SUPERVISOR, note, LogLevel.WARN)
            )
            seq += 1
            start = index
        seq, cut = build(kept[start:], now, seq, lines)
        return seq, cut_count + cut, result.hidden

    def _build_cut(
        self, cut_lines: list[str], now: float, seq: int, lines: list[LogLine]
    ) -> tuple[int, int]:
        """Store lines that were cut at the cap already, with the mark."""
        for raw in cut_lines:
            lines.append(
                LogLine(
                    seq,
                    now,
                    self._writer.service,
                    self._stream,
                    raw + TRUNCATION_MARK,
                    _guess_level(raw),
                    None,
                    (),
                    True,
                )
            )
            seq += 1
        return seq, len(cut_lines)

    def _build(
        self, raw_lines: list[str], now: float, seq: int, lines: list[LogLine]
    ) -> tuple[int, int]:
        """Turn ``raw_lines`` into log lines numbered from ``seq``, appended to ``lines``;
        returns the next seq and how many lines were cut."""
        service = self._writer.service
        stream = self._stream
        cap = self._cap
        cut_count = 0
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
        return seq, cut_count

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
