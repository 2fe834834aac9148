"""Seeing inside plugin runs: focused instruction traces, the Chrome
timeline of a run, the profiler per plugin, the recording the HTML report
draws from, and the debugger over a whole host.

Everything here works through the host's extension points: instruments of
the plugin VMs (``abi.vm.instruments``) and listeners of the trace
(``abi.trace``); the simulated proxy runs as it would without them.
"""
