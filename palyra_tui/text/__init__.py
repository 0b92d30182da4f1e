"""Safety for untrusted text: terminal-escape sanitizing and secret redaction."""

from palyra_tui.text.redact import MARK, Redactor
from palyra_tui.text.sanitize import decode, sanitize, sanitize_line, visible

__all__ = ["MARK", "Redactor", "decode", "sanitize", "sanitize_line", "visible"]
