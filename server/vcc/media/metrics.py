"""The media plane's Prometheus metrics, in the node's registry (served at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

from ..ops.metrics import REGISTRY

JANUS_UP = Gauge(
    "vcc_media_janus_up", "1 while the media adapter holds a live Janus session for the consultation", ["consultation"], registry=REGISTRY
)
JANUS_LOST = Counter(
    "vcc_media_janus_lost_total", "Janus sessions lost (Janus down, restarted or unreachable)", ["consultation"], registry=REGISTRY
)
JANUS_REQUEST_SECONDS = Histogram(
    "vcc_media_janus_request_seconds",
    "Synchronous Janus plugin requests (mute, unmute, rtp_forward...), by request",
    ["request"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    registry=REGISTRY,
)
RECONCILE_SECONDS = Histogram(
    "vcc_media_reconcile_seconds",
    "From a batch of events to Janus matching the state (all calls made)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)
REBUILDS = Counter(
    "vcc_media_rebuilds_total",
    "Times every room, mountpoint and forward was built from the state on a new Janus session",
    ["consultation"],
    registry=REGISTRY,
)
