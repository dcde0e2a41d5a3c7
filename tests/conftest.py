import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fastimg  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_thread_count():
    yield
    fastimg.set_num_threads(None)
