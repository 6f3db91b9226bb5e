"""Package layout: workflows/ and launchers/ install as seilearn.workflows and seilearn.launchers.

The repository keeps them as top-level folders, but a site-packages install must not claim the generic
top-level names ``workflows`` and ``launchers``. Metadata lives in pyproject.toml.
"""

from setuptools import Extension, find_packages, setup

MAPPED = ("workflows", "launchers")
packages = find_packages(include=["seilearn", "seilearn.*"])
for folder in MAPPED:
    packages += [f"seilearn.{p}" for p in find_packages(include=[folder, f"{folder}.*"])]

setup(
    packages=packages,
    package_dir={"seilearn": "seilearn", **{f"seilearn.{f}": f for f in MAPPED}},
    # data folders that are not packages themselves (no __init__.py), named explicitly so a wheel has them
    package_data={"seilearn.launchers": ["templates/*.yaml"], "seilearn.workflows": ["examples/*.yaml"],
                  "seilearn.web": ["templates/seilearn/*.html"]},
    ext_modules=[
        Extension("seilearn.mtp._fitkernel", ["seilearn/mtp/_fitkernel.c"], extra_compile_args=["-O3"]),
        # threaded E/F/stress, neighbour lists and selection rows (OpenMP; Python headers + gcc only)
        Extension("seilearn.mtp._kernel", ["seilearn/mtp/_kernel.c"], extra_compile_args=["-O3", "-fopenmp"],
                  extra_link_args=["-fopenmp"]),
    ],
)
