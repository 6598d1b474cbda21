"""Child process for the kill test: scans a folder with the fake pipeline, small batches."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album import Library  # noqa: E402
from album.scan import scanner  # noqa: E402
from tests.fakes import fake_pipeline  # noqa: E402

scanner.BATCH_SIZE = 3
Library(sys.argv[1]).scan([sys.argv[2]], pipeline=fake_pipeline())
