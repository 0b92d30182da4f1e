"""View-model assembly for the UI: one immutable snapshot (no textual, no rich)."""
