"""Child process for the kill test: scans a folder with the fake pipeline in small batches and
prints one line per finished photo, so the parent can kill it mid-scan at a random point."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album import Album  # noqa: E402
from album.scan import scanner  # noqa: E402
from tests.fakes import fake_pipeline  # noqa: E402

scanner.BATCH_SIZE = 3
pipeline = fake_pipeline()
real_process = pipeline.process_batch


def slow_process(images):
    time.sleep(0.01 * len(images))  # spread the scan so kills land between and inside batches
    return real_process(images)


pipeline.process_batch = slow_process
Album(sys.argv[1]).scan(
    [sys.argv[2]], pipeline=pipeline, progress=lambda p: print(p.photos_done, flush=True)
)
