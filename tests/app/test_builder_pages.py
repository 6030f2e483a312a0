"""The print preview's page images: a white page gets an edge on the app's white background."""

from __future__ import annotations

import io

from PIL import Image

from components.builder_pages import FRAME, framed


def test_a_page_image_gets_a_one_pixel_frame_and_keeps_its_content() -> None:
    page = Image.new("RGB", (40, 60), "white")
    page.putpixel((0, 0), (255, 0, 0))
    out = io.BytesIO()
    page.save(out, format="PNG")

    with Image.open(io.BytesIO(framed(out.getvalue()))) as shown:
        assert shown.size == (42, 62)
        grey = Image.new("RGB", (1, 1), FRAME).getpixel((0, 0))
        corners = [(0, 0), (41, 0), (0, 61), (41, 61), (20, 0), (0, 30)]
        assert all(shown.getpixel(xy) == grey for xy in corners)
        assert shown.getpixel((1, 1)) == (255, 0, 0)  # the page's own corner, inside the frame
        assert shown.getpixel((20, 30)) == (255, 255, 255)
