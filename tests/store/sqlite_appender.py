"""Child process for the SIGKILL test: append forever, report each acknowledged seq.

Usage: python sqlite_appender.py DB_DIR WRITERS

Each writer task appends 1-3 events at a time to its own stream ``w<i>`` and,
once ``append`` has returned, prints ``w<i> <last_seq>`` and flushes. The
parent kills this process at an arbitrary moment and checks that everything
printed is in the log.
"""

from __future__ import annotations

import asyncio
import random
import sys

from vcc.store.sqlite import SqliteStore


def event(stream: str, seq: int) -> bytes:
    return f"{stream}#{seq}".encode().ljust(250, b".")


async def writer(store: SqliteStore, stream: str, rng: random.Random) -> None:
    seq = 0
    while True:
        count = rng.randint(1, 3)
        seq = await store.append(stream, seq, [event(stream, seq + i) for i in range(1, count + 1)])
        sys.stdout.write(f"{stream} {seq}\n")
        sys.stdout.flush()


async def main(directory: str, writers: int) -> None:
    async with SqliteStore(directory) as store:
        await asyncio.gather(*(writer(store, f"w{i}", random.Random(i)) for i in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
