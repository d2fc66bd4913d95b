"""vcc.auth."""
