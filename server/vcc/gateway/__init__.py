"""The socket.io gateway: python-socketio on aiohttp, with our own broadcast path (``fanout``)."""
