"""Shared by verifier helper modules: run a block single-threaded, restoring the setting afterwards.

`quizzer verify` workers already run torch on one thread; this keeps the tiny models fast and the
figures identical when a verifier is run in-process too (a REPL, a debugger, `execution.execute`).
"""

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
