"""vcc.api."""
