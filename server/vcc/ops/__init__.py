"""vcc.ops."""
