"""The runtime: the trading session (the one loop every mode runs) and, around it, the supervisor's
parts (command bus, journal, reload, control API)."""
