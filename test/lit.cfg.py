# lit configuration of the mobileone test suite.
import os

import lit.formats

config.name = "mobileone"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Unit", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mobileone_obj_root, "test")

# Our tools first, then LLVM's FileCheck, not, count, split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.mobileone_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%srcroot", config.mobileone_src_root))
config.substitutions.append(("%objroot", config.mobileone_obj_root))

# ONNX Runtime (npm onnxruntime-node), installed into the build by scripts/setup.sh.
config.environment["NODE_PATH"] = os.path.join(config.mobileone_obj_root, "node", "node_modules")
config.substitutions.append(("%node", "node"))
