"""Runs every shell example of README.md as written and compares what each
command prints with what the README shows below it, numbers aside (every
number is masked on both sides: latencies and differences vary).

    run_readme.py README.md SRCROOT BUILDROOT WORKDIR

A block is an example when its first line starts with "$ ". The commands run
with bash in WORKDIR, where `build` links to BUILDROOT and `models` to
SRCROOT/models, so they read exactly as in the README. Prints one line per
command and PASS, or the first difference and FAIL.
"""
import os
import re
import subprocess
import sys

readme, src, build, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
for name, target in (("build", build), ("models", os.path.join(src, "models"))):
    link = os.path.join(work, name)
    if not os.path.lexists(link):
        os.symlink(target, link)

text = open(readme).read()
blocks = [b for b in re.findall(r"```\n(.*?)```", text, re.S) if b.startswith("$ ")]
number = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def mask(line):
    return number.sub("#", line.rstrip())


# `python3` in the README is the interpreter running this script (the
# Debian one, with NumPy and PyTorch), whatever else is on PATH.
env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
failed = False
commands = 0
for block in blocks:
    # (command, shown output lines); continuation lines end in a backslash.
    steps, lines = [], block.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        i += 1
        shown = []
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        steps.append((command, shown))
    for command, shown in steps:
        commands += 1
        r = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True,
                           env=env)
        got = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
        want = [l for l in shown if l.strip()]
        short = command if len(command) < 70 else command[:67] + "..."
        if r.returncode != 0:
            print(f"$ {short}: exit {r.returncode}\n{r.stdout}{r.stderr}")
            failed = True
            continue
        diff = next((k for k in range(max(len(got), len(want)))
                     if k >= len(got) or k >= len(want) or mask(got[k]) != mask(want[k])), None)
        if diff is not None:
            print(f"$ {short}: line {diff + 1} differs\n  README: "
                  f"{want[diff] if diff < len(want) else '(nothing)'}\n  got:    "
                  f"{got[diff] if diff < len(got) else '(nothing)'}")
            failed = True
        else:
            print(f"$ {short}: {len(got)} lines as shown")
print(f"{commands} commands, {len(blocks)} examples: {'FAIL' if failed else 'PASS'}")
sys.exit(1 if failed else 0)
