"""Reading a file someone named: only a regular file, never more than a bound.

A FIFO, a socket or a device (`/dev/zero`) named where a file is expected made a plain `read_text`
block forever or read without end. The file is opened non-blocking and checked with fstat before a
byte is read, and at most `limit` + 1 bytes are read, so a file that grew past its bound is caught.
Callers turn the exceptions into their own one sentence.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotARegularFile(OSError):
    """A FIFO, socket or device where a file was expected."""


class TooLarge(OSError):
    """More bytes than the caller's bound."""


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading; raises FileNotFoundError, IsADirectoryError, NotARegularFile or OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{path} is a folder")
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"{path} is not a regular file (a FIFO, socket or device)")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of `path`; raises what `open_regular` raises, or TooLarge past `limit` bytes."""
    with open_regular(path) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path} is larger than {limit} bytes")
    return data
