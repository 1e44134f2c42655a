"""Loopback fakes of the outside world for the tests and benchmarks (a Telegram Bot API server)."""
