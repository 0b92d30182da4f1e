"""The Textual front end: the only package allowed to import textual or rich."""
