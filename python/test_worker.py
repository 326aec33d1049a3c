#!/usr/bin/env python3
"""Runs the test suite's Python scripts one after another in one process.

    test_worker.py        # started by run_python() in tests/util/test_util.cpp, once per test program

Importing torch and torchvision costs about 2 s of CPU per process, and the model tests run
their fixture scripts about a hundred times; here they are imported once per test program.

Protocol: each request is one line on standard input, a script's command line as a shell
would split it (the script's path, then its arguments). The script runs as __main__ with
that sys.argv, with its directory first on sys.path; everything it writes to file
descriptors 1 and 2 (C extensions included) goes to a temporary file. The reply, on the
original standard output: a line "<exit status> <byte count>", then that many bytes of the
script's output. A script's exception is printed into its output with status 1, as the
interpreter would. End of input ends the worker.

A script run here must not depend on state that an earlier script leaves behind: each
fixture script sets its own seeds and thread counts, as it does when run on its own.
"""
import gc
import os
import runpy
import shlex
import sys
import tempfile
import traceback


def run(argv):
    """Runs one script; returns (exit status, output bytes)."""
    with tempfile.TemporaryFile() as out:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        saved_argv, saved_path = sys.argv, list(sys.path)
        status = 0
        try:
            sys.argv = argv
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name='__main__')
        except SystemExit as e:
            if e.code is None:
                status = 0
            elif isinstance(e.code, int):
                status = e.code
            else:
                print(e.code, file=sys.stderr)
                status = 1
        except BaseException:  # noqa: B902 -- reported as the interpreter would, then the next request
            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sys.argv = saved_argv
            sys.path[:] = saved_path
        out.seek(0)
        return status, out.read()


def main():
    # Requests arrive on descriptor 0 and replies leave on a copy of descriptor 1; the
    # scripts get /dev/null as their standard input, and descriptor 1 for their output.
    requests = os.fdopen(os.dup(0), 'rb')
    replies = os.fdopen(os.dup(1), 'wb')
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for line in requests:
        argv = shlex.split(line.decode())
        if not argv:
            continue
        status, data = run(argv)
        gc.collect()  # the script's tensors (VGG's weights are 0.5 GB) before the next one
        replies.write(b'%d %d\n' % (status & 0xFF, len(data)))
        replies.write(data)
        replies.flush()


if __name__ == '__main__':
    main()
