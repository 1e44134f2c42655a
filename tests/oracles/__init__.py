"""Independent implementations the tests compare mia with (not part of the installed package)."""
