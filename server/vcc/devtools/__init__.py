"""vcc.devtools."""
