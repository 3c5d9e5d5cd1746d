"""Production settings plus one bare view, so benchmarks can compare against Django itself."""

from config.settings import *  # noqa: F403 -- the benchmark runs the real production settings

ROOT_URLCONF = "bench.urls"
