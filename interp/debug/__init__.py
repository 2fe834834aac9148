"""Source-level debugging: mapping the module's code back to the source it was compiled from."""
