"""Programs whose failures are built to break whatever reads them: an exception message that is a ``str``
subclass slicing to a dict, a class name that is a dict, lone surrogates in output and messages. Shared by the
security suites of the sandbox, the engine and the service, which each check that their layer turns them into
plain text. Each defines ``add(*args)``; ``SURROGATE`` also prints to both streams.
"""

from __future__ import annotations

__all__ = ["ODD_MESSAGE", "ODD_NAME", "REPLACEMENT", "SURROGATE"]

REPLACEMENT = "\ufffd"  # what a lone surrogate becomes once coerced

# str(exc) is a str subclass whose slices are dicts (the runner cuts the message with message[:N]).
ODD_MESSAGE = '''
class Odd(str):
    def __getitem__(self, key):
        return {"not": ["a", "string"]}

    def __str__(self):
        return self


class Boom(Exception):
    def __str__(self):
        return Odd("boom")


def add(*args):
    raise Boom()
'''

# type(exc).__name__ is a dict: a metaclass's property wins over type's own __name__.
ODD_NAME = '''
class Meta(type):
    @property
    def __name__(cls):
        return {"name": 42}


class Weird(Exception, metaclass=Meta):
    pass


def add(*args):
    raise Weird("x")
'''

SURROGATE = '''
import sys


def add(*args):
    print("out \\udfff")
    print("err \\udfff", file=sys.stderr)
    raise ValueError("bad \\udfff")
'''
