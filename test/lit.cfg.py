# lit configuration of the mobileone test suite.
import os

import lit.formats

config.name = "mobileone"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Unit", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mobileone_obj_root, "test")

# The runtime's own kernels run on CPUs with AVX-512F or with AVX2 + FMA
# (elsewhere every operator runs on XNNPACK).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = cpuinfo.read().split()
    if "avx512f" in flags:
        config.available_features.add("avx512f")
    if "avx2" in flags and "fma" in flags:
        config.available_features.add("avx2")
except OSError:
    pass

# Our tools first, then LLVM's FileCheck, not, count, split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.mobileone_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%srcroot", config.mobileone_src_root))
config.substitutions.append(("%objroot", config.mobileone_obj_root))

# ONNX Runtime (npm onnxruntime-node), installed into the build by scripts/setup.sh.
config.environment["NODE_PATH"] = os.path.join(config.mobileone_obj_root, "node", "node_modules")
config.substitutions.append(("%node", "node"))

# The upstream lowering of TOSA to the CPU (TOOLCHAIN.md), and its runner:
# the pipeline is scripts/tosa-pipeline.txt, as scripts/tosa-run.sh runs it.
with open(os.path.join(config.mobileone_src_root, "scripts", "tosa-pipeline.txt")) as f:
    tosa_pipeline = f.read().strip()
config.substitutions.append(("%tosa-lower", "/usr/bin/mlir-opt-19 '--pass-pipeline=%s'" % tosa_pipeline))
config.substitutions.append((
    "%tosa-run", "/usr/bin/mlir-cpu-runner-19 -e main -entry-point-result=void "
    "-shared-libs=/usr/lib/llvm-19/lib/libmlir_runner_utils.so,/usr/lib/llvm-19/lib/libmlir_c_runner_utils.so"))
config.substitutions.append(("%compare", "/usr/bin/python3 %s/test/Integration/compare_outputs.py" % config.mobileone_src_root))
config.substitutions.append(("%mobileone-run-asan", os.path.join(config.mobileone_tools_dir, "mobileone-run-asan")))
config.substitutions.append(("%mobileone-run", os.path.join(config.mobileone_tools_dir, "mobileone-run")))
config.substitutions.append(("%mobileone-compile", os.path.join(config.mobileone_tools_dir, "mobileone-compile")))
