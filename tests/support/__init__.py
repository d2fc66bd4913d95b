"""Helpers shared by tests and benchmarks (real servers, nothing mocked)."""
