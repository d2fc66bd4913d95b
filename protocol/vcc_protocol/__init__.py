"""The wire protocol of the virtual-consultation service: the single source of
truth for every message exchanged between clients and the server.

Commands, events and envelopes are msgspec Structs, so one definition gives
strict validation, msgpack encoding and the JSON Schema the browser uses
(``python -m vcc_protocol.schema`` writes ``schema.json``).
"""

PROTOCOL_VERSION = 1
