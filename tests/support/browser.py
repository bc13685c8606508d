"""Headless Chromium for the tests that look at a page: a screenshot of a file or URL.

shot = screenshot(html_path.as_uri(), tmp_path / "page.png", size=(1000, 1400))
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")


def screenshot(url: str, shot: Path, *, size: tuple[int, int], timeout: int = 60) -> Path:
    """A PNG of the page at `url` as a window of `size` (width, height) shows it."""
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={shot}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    return shot


def assert_page_with_text(shot: Path, *, width: int, height: int) -> None:
    from PIL import Image

    image = Image.open(shot).convert("L")
    colours = image.getcolors(maxcolors=1 << 16)
    assert image.size == (width, height) and colours is not None and len(colours) > 50, "a page with text, not blank"
