"""Organizers' Markdown is rendered without scripts, handlers or javascript: links."""

import pytest

from lai_platform.web.markdown import render


@pytest.mark.parametrize(
    "source, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="https://x.example" onclick="steal()">x</a>', "onclick"),
        ("<iframe src='https://x.example'></iframe>", "<iframe"),
        ('<div style="background:url(x)">x</div>', "style="),
    ],
)
def test_dangerous_markup_is_removed(source, forbidden):
    assert forbidden not in str(render(source))


def test_ordinary_markdown_survives():
    source = "## Title\n\n* **bold** [link](https://lai.example)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    html = str(render(source))
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html
    assert 'href="https://lai.example"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html

