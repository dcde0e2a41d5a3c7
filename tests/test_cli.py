import subprocess
import sys


def test_info_reports_versions_and_threads():
    out = subprocess.run(
        [sys.executable, "-m", "fastimg", "info"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    for key in (
        "fastimg",
        "libjpeg-turbo (linked)",
        "opencv (linked)",
        "parallel runtime",
        "torch",
        "cpu features",
        "default threads",
    ):
        assert key in out
    assert "2.1" in out or "3." in out  # a libjpeg-turbo version string
