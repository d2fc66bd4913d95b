"""The media plane: Janus driven by the procedure, as an adapter outside the core (docs in each module)."""
