"""DWARF debugging information of a module's custom sections: which source
line each instruction comes from (``lines``, ``source_map``).  Below the
engine, so that a trap's backtrace can name the line; the debugger's variables
(``interp/debug/dwarf_variables.py``) build on it."""
