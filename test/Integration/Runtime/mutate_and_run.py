"""Feeds mobileone-run corrupted variants of a valid .tflite file.

usage: mutate_and_run.py MOBILEONE_RUN MODEL.tflite WORKDIR [--variants N]
Truncations at many lengths, random bytes, and N seeded variants with a few
bytes overwritten (offsets, counts, indices, shapes all get hit). Each run
must end with exit status 0 (the damage was harmless) or 1 (a clean error):
a signal (crash) or a timeout fails. Prints one summary line.
"""
import os
import random
import subprocess
import sys


def main():
    run, model, work = sys.argv[1], sys.argv[2], sys.argv[3]
    variants = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    os.makedirs(work, exist_ok=True)
    good = open(model, "rb").read()
    rng = random.Random(1234)
    cases = []
    for cut in sorted({0, 1, 4, 7, 8, 16, 64, len(good) // 3, len(good) // 2, len(good) - 16, len(good) - 1}):
        cases.append((f"truncated-{cut}", good[:cut]))
    cases.append(("random", bytes(rng.getrandbits(8) for _ in range(4096))))
    cases.append(("identifier", good[:4] + b"XXXX" + good[8:]))
    for i in range(variants):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            data[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.getrandbits(8)])
        cases.append((f"mutated-{i}", bytes(data)))
    status = {0: 0, 1: 0}
    for name, data in cases:
        path = os.path.join(work, name + ".tflite")
        with open(path, "wb") as f:
            f.write(data)
        for extra in ([], ["--reference"]):
            try:
                r = subprocess.run([run, path] + extra, capture_output=True, timeout=60)
            except subprocess.TimeoutExpired:
                print(f"FAIL: {name} {extra}: timeout")
                sys.exit(1)
            if r.returncode not in (0, 1):
                print(f"FAIL: {name} {extra}: exit status {r.returncode}\n{r.stderr.decode()[-2000:]}")
                sys.exit(1)
            status[r.returncode] += 1
        os.remove(path)
    print(f"{len(cases)} corrupted files, {2 * len(cases)} runs: {status[1]} clean errors, "
          f"{status[0]} harmless, 0 crashes: PASS")


if __name__ == "__main__":
    main()
