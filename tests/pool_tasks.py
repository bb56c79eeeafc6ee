"""Tasks for the recognition pool's failure tests (imported by the worker processes)."""

import os
import threading


def echo(value):
    return value


def crash(_):
    os._exit(3)


def hang(_):
    threading.Event().wait()  # never returns: the pool's time limit must end it
