"""Host modules written in Python that guests can import."""
