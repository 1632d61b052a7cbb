"""One reader per format; each raises ``ValueError`` with a reason a user can act on."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from .model import Document, Paragraph, clean, iso

#: Office files are zips: refuse one that would inflate past this (a zip bomb, or not a document).
MAX_UNZIPPED = 512 * 1024 * 1024
#: The markup a reader parses (a docx's XML, an EPUB's XHTML, an HTML file) is held in memory as a
#: tree several times its size: past this a file is refused, not parsed. 64 MB of WordprocessingML
#: is some 10,000 pages of text; a 715 KB docx holding 300 MB of it stalled a run for minutes.
MAX_MARKUP = 64 * 1024 * 1024
_MARKUP = (".xml", ".xhtml", ".html", ".htm", ".opf", ".ncx", ".rels")


def read_docx(path: Path) -> Document:
    import docx

    _check_zip(path, "Word document")
    document = docx.Document(str(path))
    # Style names by id, read once: python-docx's ``para.style`` looks the default style up among
    # all styles for every paragraph, which made 20,000 paragraphs take minutes.
    names = {style.style_id: (style.name or "") for style in document.styles}
    heading = {sid for sid, name in names.items() if name.lower().startswith(("heading", "title"))}
    paragraphs: list[Paragraph] = []
    section: str | None = None
    for para in document.paragraphs:
        text = clean(para.text)
        if not text:
            continue
        if para._p.style in heading:  # the paragraph's own style id (None: the default style)
            section = text
        paragraphs.append(Paragraph(text, section))
    for table in document.tables:
        for row in table.rows:
            text = clean(" | ".join(cell.text for cell in row.cells))
            if text:
                paragraphs.append(Paragraph(text, section))
    props = document.core_properties
    return Document(tuple(paragraphs), clean(props.title), clean(props.author), iso(props.created))


def read_odt(path: Path) -> Document:
    from odf import dc, meta, teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    _check_zip(path, "OpenDocument text")
    document = load(str(path))
    paragraphs: list[Paragraph] = []
    section: str | None = None

    def walk(node: object) -> None:
        nonlocal section
        for child in getattr(node, "childNodes", []):
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "h"), (TEXTNS, "p")):
                text = clean(teletype.extractText(child))
                if text:
                    if qname == (TEXTNS, "h"):
                        section = text
                    paragraphs.append(Paragraph(text, section))
            else:
                walk(child)

    walk(document.text)

    def first(kind: type) -> str | None:
        found = document.meta.getElementsByType(kind)
        return clean(teletype.extractText(found[0])) if found else None

    return Document(tuple(paragraphs), first(dc.Title), first(dc.Creator) or first(meta.InitialCreator),
                    iso(first(meta.CreationDate) or first(dc.Date)))


def read_html_file(path: Path) -> Document:
    from .html import read_html

    size = path.stat().st_size
    if size > MAX_MARKUP:
        raise ValueError(f"{size / 2**20:.0f} MB of HTML is over the {MAX_MARKUP // 2**20} MB a page may hold to be "
                         "read in one piece; save it as text (.txt) to index it in chunks")
    return read_html(path.read_bytes())


def read_epub(path: Path) -> Document:
    """EPUB 2/3: container.xml names the package (OPF), whose spine orders the XHTML chapters."""
    from bs4 import BeautifulSoup

    from .html import read_html

    _check_zip(path, "EPUB")
    with zipfile.ZipFile(path) as zf:
        try:
            container = BeautifulSoup(zf.read("META-INF/container.xml"), "xml")
            opf_path = container.find("rootfile")["full-path"]  # type: ignore[index]
            package = BeautifulSoup(zf.read(str(opf_path)), "xml")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a valid EPUB (no package document: {exc})") from None
        base = posixpath.dirname(str(opf_path))
        items = {item.get("id"): item.get("href") for item in package.find_all("item")}
        paragraphs: list[Paragraph] = []
        for ref in package.find_all("itemref"):
            href = items.get(ref.get("idref"))
            if not href:
                continue
            try:
                chapter = read_html(zf.read(posixpath.normpath(posixpath.join(base, href))))
            except KeyError:
                continue  # a spine entry the zip lacks: skip it, keep the book
            for para in chapter.paragraphs:
                paragraphs.append(Paragraph(para.text, para.section or chapter.title))

    def dc(name: str) -> str | None:
        tag = package.find(name)
        return clean(tag.get_text()) if tag else None

    return Document(tuple(paragraphs), dc("title"), dc("creator"), iso(dc("date")))


def _check_zip(path: Path, what: str) -> None:
    if not zipfile.is_zipfile(path):
        raise ValueError(f"not a readable {what} (not a zip archive: the file is damaged or misnamed)")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if sum(info.file_size for info in infos) > MAX_UNZIPPED:
            raise ValueError(f"{what} unpacks to more than {MAX_UNZIPPED // 2**20} MB; refusing it as a zip bomb")
        markup = sum(info.file_size for info in infos if info.filename.lower().endswith(_MARKUP))
        if markup > MAX_MARKUP:
            raise ValueError(f"{what} holds {markup / 2**20:.0f} MB of markup, over the {MAX_MARKUP // 2**20} MB "
                             "one document may hold to be read (a zip bomb, or a document to split into parts)")


READERS = {".docx": read_docx, ".odt": read_odt, ".html": read_html_file, ".htm": read_html_file,
           ".xhtml": read_html_file, ".epub": read_epub}
