"""Translation: validated function bodies lowered into the flat form both engines run."""
