"""Instruments that tests and benchmarks measure with (the capacity meter); never deployed."""
