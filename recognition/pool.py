"""Recognition in a process pool that never stalls the gateway.

pebble's ProcessPool (forkserver start: the gateway has threads) gives each image a time
limit (a worker past it is killed and replaced) and replaces a crashed worker without failing
the other images. On top of it: a bounded queue. When every worker is busy and ``queue``
more images wait (or ``max_pending`` images are in, whichever is fewer), the next request is
refused at once (:class:`RecognitionBusy`) instead of piling up behind the others. Callers that
wait in threads of a bounded pool give ``max_pending`` below its size, so that the refusal can
be answered at all.
"""

import multiprocessing
import os
import threading
from concurrent.futures import InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

_recognizer = None


def _load(regions, precision, reader="plate"):
    """Worker start: load the models once per worker process."""
    global _recognizer
    from .pipeline import recognizer
    _recognizer = recognizer(reader, precision, regions)


def recognize_image(data, regions=None):
    """The task: image bytes -> Reading.as_dict() (or ImageRejected)."""
    from .images import decode
    from .pipeline import PlateRecognizer
    recognizer = (_recognizer if regions is None
                  else PlateRecognizer(_recognizer.reader, regions, _recognizer.calibration))
    return recognizer.recognize(decode(data)).as_dict()


class RecognitionFailed(Exception):
    """The image could not be read in time, or its worker died reading it."""


class RecognitionBusy(Exception):
    """Every worker is busy and the queue is full: try again shortly."""


class RecognitionPool:
    def __init__(self, workers=0, time_limit=5.0, queue=4, task=recognize_image, regions=None, precision="f32",
                 max_pending=None, reader="plate"):
        self.workers = workers or os.cpu_count() or 1
        self.time_limit = time_limit
        self.capacity = self.workers + queue if max_pending is None else min(self.workers + queue, max_pending)
        self.task = task
        self._pool = ProcessPool(max_workers=self.workers, initializer=_load, initargs=(regions, precision, reader),
                                 context=multiprocessing.get_context("forkserver"))
        self._pending = 0
        self._futures: set = set()
        self._lock = threading.Lock()

    def submit(self, *args):
        """A future of the task's result; RecognitionBusy at once when the queue is full."""
        with self._lock:
            if self._pending >= self.capacity:
                raise RecognitionBusy("every recognition worker is busy and the queue is full: try again shortly")
            self._pending += 1
        future = self._pool.schedule(self.task, args=args, timeout=self.time_limit)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._done)
        return future

    @property
    def pending(self):
        """Pictures in the pool now: being read or waiting for a worker."""
        return self._pending

    @property
    def alive(self):
        return self._pool.active

    def _done(self, future):
        with self._lock:
            self._pending -= 1
            self._futures.discard(future)

    def run(self, *args):
        """Blocking (call from a request thread): the result, or RecognitionFailed."""
        future = self.submit(*args)
        try:
            return future.result()
        except FutureTimeout:
            raise RecognitionFailed(f"no reading within {self.time_limit:g} s") from None
        except ProcessExpired as e:
            raise RecognitionFailed(f"the recognition worker died ({e.exitcode})") from None

    def close(self):
        """Stop the workers; the pictures still in the pool fail (pebble leaves their futures pending,
        and a thread waiting on one would keep a stopping gateway from ever exiting)."""
        self._pool.stop()
        self._pool.join(timeout=10)
        with self._lock:
            left = list(self._futures)
        for future in left:
            try:
                future.set_exception(RecognitionFailed("the recognition pool stopped"))
            except InvalidStateError:  # it finished meanwhile
                pass
