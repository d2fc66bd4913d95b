// One place that knows how to open a socket.io connection to this server:
// the msgpack parser the gateway speaks, websocket first with long-polling as
// the fallback for networks whose firewall blocks websockets.

import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

/**
 * A websocket that cannot open makes the connection fail after `timeout` ms
 * at most (a proxy may hang rather than refuse); the session then falls back
 * to long-polling.
 */
export function openSocket({ auth, transports = ["websocket"], reconnection = true, timeout = 5000 } = {}) {
  return io(window.location.origin, {
    parser: msgpackParser,
    auth,
    transports,
    reconnection,
    reconnectionDelay: 300,
    reconnectionDelayMax: 3000,
    timeout,
    forceNew: true,
  });
}
