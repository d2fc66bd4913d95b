"""vcc.documents."""
