"""Markdown from organizers rendered to sanitised HTML (no scripts, no event handlers)."""

import markdown as md
import nh3
from markupsafe import Markup

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul", "dl", "dt", "dd", "sup", "sub",
}


def render(text: str | None) -> Markup:
    html = md.markdown(text or "", extensions=["tables", "fenced_code"])
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
