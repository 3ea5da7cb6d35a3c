#!/usr/bin/env bash
# short-slice.sh NS CMD...: runs CMD with an EEVDF custom slice of NS nanoseconds (Linux 6.12 or
# later: sched_setattr, SCHED_OTHER, sched_runtime = NS, nice kept), inherited by its threads and
# children; no privilege needed. An experiment's tool (bench/RESULTS.md, forty-sixth session): a
# woken thread with a short slice preempts the running one at once, instead of at the next tick.
#   scripts/short-slice.sh 100000 node dist/bench/macro/replicated.bench.js --small ...
set -euo pipefail
exec python3 -c '
import ctypes, os, struct, sys
ns = int(sys.argv[1])
nice = os.getpriority(os.PRIO_PROCESS, 0)
attr = struct.pack("IIQiIQQQII", 56, 0, 0, nice, 0, ns, 0, 0, 0, 0)  # struct sched_attr
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(314, 0, attr, 0) != 0:  # SYS_sched_setattr, x86-64
    sys.exit("sched_setattr: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])
' "$@"
