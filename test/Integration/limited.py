"""Runs a command under resource limits, as a user's shell would with ulimit.

usage: limited.py [--as BYTES] [--fsize BYTES] [--timeout SECONDS] -- CMD...

Exits with the command's status; a command still running after --timeout
is killed and the exit status is 124 with "TIMEOUT" on stderr (a hang
fails the test instead of blocking the suite).
"""
import argparse
import resource
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--as", dest="address_space", type=int)
    ap.add_argument("--fsize", type=int)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd

    def limit():
        if args.address_space:
            resource.setrlimit(resource.RLIMIT_AS, (args.address_space,) * 2)
        if args.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize,) * 2)

    try:
        r = subprocess.run(cmd, preexec_fn=limit, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print("TIMEOUT: %s" % " ".join(cmd), file=sys.stderr)
        sys.exit(124)
    # A signal (abort, segfault) is a distinct failure, never "not 0".
    sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)


if __name__ == "__main__":
    main()
