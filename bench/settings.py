"""Production settings plus one bare view, so benchmarks can compare against Django itself."""

import os

from config.settings import *  # noqa: F403 -- the benchmark runs the real production settings

ROOT_URLCONF = "bench.urls"
# The benchmark collects static files (the manifest {% static %} needs) into its own folder.
STATIC_ROOT = os.environ.get("SPAR_BENCH_STATIC_ROOT") or STATIC_ROOT  # noqa: F405
