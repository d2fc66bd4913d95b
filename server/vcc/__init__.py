"""vcc: real-time orchestration of formal multilingual virtual consultations."""

__version__ = "0.1.0"
