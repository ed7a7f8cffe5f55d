"""Kills a tool while it writes its output and checks what is left.

    killed_write.py OLD NEW -- tool args... (the args name OUT, the output)

OLD is a complete earlier output standing at the output path, NEW what the
command writes when it finishes. The script first runs the command to the
end (to learn NEW's bytes), then, for each signal, restores OLD, starts the
command and watches the directory: the moment a temporary file of the output
appears (the write has begun), it sends the signal. After every run the
output path must hold OLD or NEW byte for byte, never a mixture or a
truncation. Prints one line per run and a summary; exits 1 on a violation.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time


def digest(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    sep = sys.argv.index("--")
    old, out = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sep + 1:]
    directory = os.path.dirname(os.path.abspath(out))
    prefix = os.path.basename(out) + ".tmp-"

    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    new_digest = digest(out)
    old_digest = digest(old)
    assert new_digest and old_digest and new_digest != old_digest

    bad = 0
    mid_write = 0
    for signame in ["SIGKILL", "SIGTERM", "SIGINT", "SIGKILL", "SIGTERM"]:
        for stale in os.listdir(directory):
            if stale.startswith(prefix):
                os.remove(os.path.join(directory, stale))
        shutil.copyfile(old, out)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        caught = False
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if any(n.startswith(prefix) for n in os.listdir(directory)):
                proc.send_signal(getattr(signal, signame))
                caught = True
                break
            time.sleep(0.0002)
        proc.wait()
        got = digest(out)
        state = {old_digest: "old", new_digest: "new"}.get(got, "CORRUPT")
        left = [n for n in os.listdir(directory) if n.startswith(prefix)]
        # LLVM's interrupt handler may turn SIGINT into exit 1 after it has
        # removed the temporary file: stopped all the same.
        stopped = proc.returncode != 0
        mid_write += caught and stopped
        print(f"{signame}: {'during the write' if caught else 'missed'}, "
              f"exit {proc.returncode}, output {state}, "
              f"temporary files left {len(left)}")
        if state == "CORRUPT":
            bad += 1
    print(f"runs killed during the write: {mid_write}; corrupt outputs: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
