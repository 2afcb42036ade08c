"""Progress lines with elapsed time, on stderr so stdout stays machine-readable."""

import sys
import time

_START = time.monotonic()


def say(message):
    """Print one progress line prefixed with the seconds since the harness started."""
    sys.stderr.write("[lab %6.1fs] %s\n" % (time.monotonic() - _START, message))
    sys.stderr.flush()


class Timer:
    """Measure one slow step and report it when it ends."""

    def __init__(self, what):
        self.what = what
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self):
        self.started = time.monotonic()
        say("%s ..." % self.what)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.seconds = time.monotonic() - self.started
        state = "done" if exc_type is None else "FAILED"
        say("%s %s in %.1f s" % (self.what, state, self.seconds))
        return False
