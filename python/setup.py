"""Builds the s2s Python package offline: setuptools drives the project's own CMake build of the
extension module (target _s2s, python/CMakeLists.txt) and puts it, with OpenCV's dnn helper
library, into the package.

Environment:
  S2S_BUILD_DIR   an existing, configured build tree of this checkout to build _s2s in (fast:
                  only what changed is rebuilt); default: a fresh tree under build/ of setuptools
  S2S_CMAKE_ARGS  extra CMake arguments for a fresh tree, e.g. "-DS2S_CUDA=OFF -DS2S_NATIVE=ON"
  S2S_JOBS        parallel build jobs (default: the CPU count)
"""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        given = os.environ.get("S2S_BUILD_DIR")
        build = Path(given).resolve() if given else Path(self.build_temp).resolve() / "cmake"
        jobs = os.environ.get("S2S_JOBS", str(os.cpu_count() or 2))
        if not given:
            configure = [
                "cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
                "-DCMAKE_BUILD_TYPE=Release", "-DS2S_PYTHON=ON", "-DS2S_BUILD_TESTS=OFF",
                "-DS2S_BUILD_BENCH=OFF", f"-DPython_EXECUTABLE={sys.executable}",
            ] + shlex.split(os.environ.get("S2S_CMAKE_ARGS", ""))
            subprocess.run(configure, check=True)
        elif not (build / "CMakeCache.txt").exists():
            sys.exit(f"S2S_BUILD_DIR={build} is not a configured build tree")
        subprocess.run(["cmake", "--build", str(build), "--target", "_s2s", "--parallel", jobs],
                       check=True)
        package = build / "python" / "s2s"
        built = sorted(package.glob("_s2s*.so"))
        if not built:
            sys.exit(f"no _s2s module in {package}: was the tree configured with S2S_PYTHON=OFF, "
                     "or for another Python?")
        target = Path(self.get_ext_fullpath(ext.name)).parent
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[-1], Path(self.get_ext_fullpath(ext.name)))
        shutil.copy2(package / "libs2s_image_dnn.so", target / "libs2s_image_dnn.so")


setup(ext_modules=[CMakeExtension("s2s._s2s")], cmdclass={"build_ext": CMakeBuild})
