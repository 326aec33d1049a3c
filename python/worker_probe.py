#!/usr/bin/env python3
"""A probe of python/test_worker.py for tests/unit/test_python_worker.cpp.

    worker_probe.py ok ARG...      # prints its pid and arguments, writes to stderr and to fd 1 directly
    worker_probe.py exit N         # the same, then sys.exit(N)
    worker_probe.py raise          # the same, then raises ValueError
    worker_probe.py die            # the same, then ends the process at once (os._exit), with no reply
    worker_probe.py die_later      # the same, then ends the process 0.2 s after this run's reply
"""
import os
import sys
import threading

print('pid', os.getpid())
print('argv', sys.argv[1:])
print('path0', sys.path[0])
sys.stderr.write('to stderr\n')
sys.stdout.flush()
os.write(1, b'straight to fd 1\n')
if sys.argv[1] == 'exit':
    sys.exit(int(sys.argv[2]))
if sys.argv[1] == 'raise':
    raise ValueError('probe raised')
if sys.argv[1] == 'die':
    os._exit(9)
if sys.argv[1] == 'die_later':
    threading.Timer(0.2, os._exit, (9,)).start()
