"""Checks mobileone-run --bench output: peak RSS <= weights + 2 x largest
live pair + 30 MB. Prints the figures; exits 1 beyond the bound."""
import re
import sys

text = open(sys.argv[1]).read()
m = re.search(r"peak memory \(RSS\) ([\d.]+) MB; weights ([\d.]+) MB, largest live pair ([\d.]+) MB", text)
peak, weights, pair = (float(g) for g in m.groups())
bound = weights + 2 * pair + 30
ok = peak <= bound
print(f"peak {peak:.1f} MB, bound {bound:.1f} MB (weights {weights:.1f} + 2 x {pair:.2f} + 30): "
      f"{'within bound: PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
