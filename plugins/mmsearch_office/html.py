"""HTML (and the XHTML inside EPUB) to paragraphs, with BeautifulSoup over lxml: scripts, styles
and navigation are not text a person reads; block elements end paragraphs, inline ones do not."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from .model import Document, Paragraph, clean, iso

_SKIP = ("script", "style", "noscript", "template", "svg", "nav", "head")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = ("p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption", "caption", "address", *_HEADINGS)


def read_html(data: bytes | str) -> Document:
    soup = BeautifulSoup(data, "lxml")
    title = clean(soup.title.get_text()) if soup.title else None
    author = _meta(soup, "author")
    created = iso(_meta(soup, "date") or _meta(soup, "article:published_time") or _meta(soup, "dcterms.created"))
    for tag in soup.find_all(_SKIP):
        tag.decompose()
    paragraphs: list[Paragraph] = []
    section: str | None = None
    root = soup.body or soup
    blocks = root.find_all(_BLOCKS)
    if not blocks:  # bare text without markup
        text = clean(root.get_text(" "))
        return Document((Paragraph(text, None),) if text else (), title, author, created)
    for block in blocks:
        if any(isinstance(parent, Tag) and parent.name in _BLOCKS for parent in block.parents):
            continue  # its text is already in the enclosing block
        text = clean(block.get_text(" "))
        if not text:
            continue
        if block.name in _HEADINGS:
            section = text
        paragraphs.append(Paragraph(text, section))
    return Document(tuple(paragraphs), title, author, created)


def _meta(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
    return clean(tag.get("content")) if isinstance(tag, Tag) else None
