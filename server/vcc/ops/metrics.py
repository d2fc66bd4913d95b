"""Prometheus metrics of one process (served at /metrics)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CONNECTIONS = Gauge("vcc_connections", "Connected socket.io clients", registry=REGISTRY)
COMMANDS = Counter(
    "vcc_commands_total", "Commands handled, by type and outcome (ok or an error code)", ["type", "outcome"], registry=REGISTRY
)
COMMAND_SECONDS = Histogram(
    "vcc_command_seconds",
    "Time from receiving a command to its answer (decide, durable append, apply)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
APPENDS = Counter(
    "vcc_appends_total", "Durable writes to the store by this node (each may carry several commands: group commit)", registry=REGISTRY
)
EVENTS_APPENDED = Counter("vcc_events_appended_total", "Events made durable in the store by this node", registry=REGISTRY)
FANOUT_SECONDS = Histogram(
    "vcc_fanout_seconds",
    "Time spent writing one event batch to every local connection, its slices added up",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
    registry=REGISTRY,
)
FANOUT_BATCHES = Histogram(
    "vcc_fanout_batches",
    "Durable appends sent together in one events message (more under load)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)
GC_PAUSE_SECONDS = Histogram(
    "vcc_gc_pause_seconds",
    "Event-loop pauses of the cyclic garbage collector, by generation (2: full collection)",
    ["generation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    registry=REGISTRY,
)
CLIENTS_DROPPED = Counter("vcc_clients_dropped_total", "Connections closed because they could not keep up", registry=REGISTRY)
WEBCAST_REQUESTS = Counter(
    "vcc_webcast_requests_total",
    "Requests for the public webcast's state that reached this node (a cache in front answers the rest)",
    ["status"],
    registry=REGISTRY,
)
WEBCAST_AUDIO_REQUESTS = Counter(
    "vcc_webcast_audio_requests_total",
    "Requests for the webcast's HLS and recordings that reached this node (a cache in front answers the rest)",
    ["kind"],
    registry=REGISTRY,
)
RUNTIMES_LOADED = Gauge("vcc_runtimes_loaded", "Consultations loaded in memory (state and store subscription)", registry=REGISTRY)
RUNTIME_UNLOADS = Counter(
    "vcc_runtime_unloads_total",
    "Consultations unloaded from memory, by reason (idle: unused for a while; lru: beyond the bound; discarded: a practice consultation ended)",
    ["reason"],
    registry=REGISTRY,
)
PRACTICE_ROOMS = Gauge("vcc_practice_consultations", "Practice consultations (floor drills) held in memory", registry=REGISTRY)
PRACTICE_REFUSED = Counter("vcc_practice_refused_total", "Floor drills refused because the node held its most", registry=REGISTRY)
REFUSED = Counter("vcc_refused_total", "Client input the gateway refused, by code (logged at a bounded rate)", ["code"], registry=REGISTRY)
