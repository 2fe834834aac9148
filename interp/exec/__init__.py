"""Execution: the interpreter and the semantics of the instructions it runs."""
