"""A page as a person sees it: an HTML file rendered by headless Chromium into a PNG, and the check
that the picture holds a page of text, not a blank or an error screen."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")


def screenshot(html: Path, shot: Path, *, width: int = 1000, height: int = 1400) -> Path:
    """Render `html` at `width` × `height` into `shot`; the PNG is kept for a person to look at."""
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return shot


def assert_page_with_text(shot: Path, *, width: int, height: int) -> None:
    from PIL import Image

    image = Image.open(shot).convert("L")
    colours = image.getcolors(maxcolors=1 << 16)
    assert image.size == (width, height) and colours is not None and len(colours) > 50, "a page with text, not blank"
