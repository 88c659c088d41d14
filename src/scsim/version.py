"""scsim's version, in a module of its own so that any layer can read it without importing
the package's public surface (which sits at the top of the layers)."""

__version__ = "0.1.0"
