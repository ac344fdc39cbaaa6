"""Atlas: a digital-evidence timeline analyser for stalking investigations.

The package is split so that parsers read, the core records, and analyses
compute; see ``docs/architecture.md``.
"""

__version__ = "0.1.0"
