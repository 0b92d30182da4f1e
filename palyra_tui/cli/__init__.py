"""Headless front end: commands that run without a terminal UI."""
