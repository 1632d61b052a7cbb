"""Real documents written by the tests: PDFs (fpdf2), scanned pages (Pillow text in DejaVu Sans,
embedded as images with no text layer), .docx, .odt, .html and .epub files."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def write_pdf(path: Path, pages: Sequence[str], title: str | None = None, author: str | None = None,
              created: datetime | None = None, password: str | None = None) -> Path:
    """A PDF with a real text layer, one string per page (paragraphs split on blank lines)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if created:
        pdf.set_creation_date(created)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.output(str(path))
    return path


def page_image(lines: Sequence[str], size: tuple[int, int] = (1654, 2339), font_px: int = 42,
               at: tuple[int, int] = (140, 180)) -> Image.Image:
    """A white page (A4 at 200 dpi by default) with ``lines`` of black text: what a scanner gives."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    face = font(font_px)
    x, y = at
    for line in lines:
        draw.text((x, y), line, fill="black", font=face)
        y += int(font_px * 1.6)
    return image


def write_scanned_pdf(path: Path, images: Sequence[Image.Image]) -> Path:
    """A PDF whose pages are only images (no text layer), like a scanner's output."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for image in images:
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: Sequence[str], title: str | None = None, author: str | None = None) -> Path:
    import docx

    document = docx.Document()
    for i, text in enumerate(paragraphs):
        document.add_heading(text, level=1) if i == 0 else document.add_paragraph(text)
    if title:
        document.core_properties.title = title
    if author:
        document.core_properties.author = author
    document.save(str(path))
    return path


def write_odt(path: Path, paragraphs: Sequence[str], title: str | None = None) -> Path:
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    for i, text in enumerate(paragraphs):
        document.text.addElement(H(outlinelevel=1, text=text) if i == 0 else P(text=text))
    if title:
        document.meta.addElement(Title(text=title))
    document.save(str(path))
    return path


def write_html(path: Path, paragraphs: Sequence[str], title: str = "A page") -> Path:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    path.write_text(f"<!doctype html><html><head><title>{title}</title><style>p {{ color: red }}</style>"
                    f"<script>var hidden = 'scriptword';</script></head><body><nav>Home | About</nav>\n{body}</body></html>",
                    "utf-8")
    return path


def write_epub(path: Path, chapters: Sequence[tuple[str, str]], title: str = "A book", author: str = "A. Writer") -> Path:
    """A minimal valid EPUB 3: container, OPF package with Dublin Core metadata, XHTML chapters."""
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = (f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
           f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
           f'<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator><dc:language>en</dc:language></metadata>'
           f'<manifest>{items}</manifest><spine>{spine}</spine></package>')
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                 '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("OEBPS/content.opf", opf)
        for i, (heading, text) in enumerate(chapters):
            zf.writestr(f"OEBPS/c{i}.xhtml", f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{heading}</title>'
                                             f"</head><body><h1>{heading}</h1><p>{text}</p></body></html>")
    return path
