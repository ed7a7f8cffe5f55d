"""Runs every `$ command` of the README's examples exactly as written
and compares its output with the README's, numbers aside (they vary with the
machine in their last digits; the words, counts' shape and PASS must not).
Also runs the README's IR-printing command and checks that it stays small.
The commands run in WORKDIR, where `build` is the build tree and `models`
the repository's models; `python3` is the interpreter running this script
(the Debian one, with NumPy and PyTorch), whatever else is on PATH.

usage: readme_commands.py README.md BUILD_DIR WORKDIR
"""
import os
import re
import subprocess
import sys

readme, build, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
source = os.path.dirname(os.path.abspath(readme))
for name, target in (("build", os.path.abspath(build)), ("models", os.path.join(source, "models"))):
    link = os.path.join(work, name)
    if not os.path.lexists(link):
        os.symlink(target, link)
env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

text = open(readme).read()
commands = []  # (command, expected output lines)
for block in re.findall(r"```\n(.*?)```", text, re.S):
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        cmd = lines[i][2:]
        while cmd.endswith("\\"):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
        out = []
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        commands.append((cmd, out))

skeleton = lambda s: re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "#", s.strip())
failed = 0
for cmd, expected in commands:
    r = subprocess.run(["bash", "-c", cmd], cwd=work, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env)
    r.stderr = ""
    got = [l for l in r.stdout.splitlines() if l.strip()]
    want = [l for l in expected if l.strip()]
    ok = r.returncode == 0 and [skeleton(l) for l in got] == [skeleton(l) for l in want]
    print(("PASS" if ok else "FAIL") + ": $ " + cmd)
    if not ok:
        failed += 1
        print("  exit", r.returncode, r.stderr[-2000:])
        print("  expected:\n    " + "\n    ".join(want) + "\n  got:\n    " + "\n    ".join(got))

# The IR-printing command of the README's prose.
m = re.search(r"`(build/bin/mobileone-opt s0-deploy\.mlirbc [^`]*)`", text)
r = subprocess.run(["bash", "-c", m.group(1)], cwd=work, capture_output=True, text=True)
ok = r.returncode == 0 and len(r.stdout) < 1_000_000 and "mobileone.conv2d" in r.stdout
print(("PASS" if ok else "FAIL") + f": $ {m.group(1)} ({len(r.stdout)} bytes)")
failed += not ok
print(f"{len(commands) + 1} README commands: {failed} failed")
sys.exit(1 if failed else 0)
