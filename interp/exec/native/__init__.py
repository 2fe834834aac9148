"""The compiled loop: the engine's hot loop in Cython (loop.pyx), built at
install time when Cython and a C compiler are available."""
