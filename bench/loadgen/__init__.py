"""Load generator for socket.io servers: ``client`` speaks the wire and times
every event, ``run`` spreads the clients over worker processes and is the
command line."""
