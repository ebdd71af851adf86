"""``python -m benchmarks`` (``make bench``): the speed benchmarks."""

from benchmarks.speed import main

main()
