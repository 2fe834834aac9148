"""The ``glasswasm`` command line."""
