"""Tasks for the recognition pool's failure tests (imported by the worker processes)."""

import os
import socket
import threading


def echo(value):
    return value


def crash(_):
    os._exit(3)


def hang(_):
    threading.Event().wait()  # never returns: the pool's time limit must end it


def held(data, regions=None):
    """A reading that takes until the test says: the image's bytes name a local port whose server
    answers one byte when the reading may finish."""
    with socket.create_connection(("127.0.0.1", int(data.decode())), timeout=120) as conn:
        conn.recv(1)
    return {"plate": "HELD1", "confidence": 0.99, "jurisdiction": None, "country": None}
