"""Real documents for tests (the built-in document plugins use them; so may yours): PDFs (fpdf2), scanned pages (Pillow text in DejaVu Sans,
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


#: A manual's pages, one topic each: a paraphrased query about one topic should land on its page.
MANUAL_PAGES = (
    "Unpacking. Remove the appliance from its box, keep the foam inserts and check that the power cord, "
    "the water filter and the two measuring spoons are included before you throw the packaging away.",
    "Bleeding the radiators. Air trapped at the top of a heating radiator makes it cold at the top and warm "
    "at the bottom. Turn the small valve at the upper corner with the radiator key until water instead of "
    "air hisses out, then close it again and top up the boiler pressure.",
    "Descaling. Hard water leaves limescale in the kettle and the heating element. Fill the tank with a "
    "mixture of one part white vinegar and two parts water, run one cycle, then rinse twice with clean water.",
    "Cleaning the filter. Every month, pull out the lint filter below the door, rinse it under warm running "
    "water and let it dry completely before you put it back.",
    "Energy saving. Use the eco programme at forty degrees for lightly soiled laundry; it takes longer but "
    "uses about half the electricity of the sixty degree programme.",
    "Error codes. E1 means the door is not closed. E2 means no water is coming in: open the tap and check "
    "the inlet hose for kinks. E3 means the pump cannot drain the water.",
    "Child lock. Hold the start button and the temperature button together for three seconds to lock the "
    "panel, so that small children cannot change the programme.",
    "Warranty. The manufacturer repairs defects in materials and workmanship free of charge for two years "
    "from the date of purchase; keep your receipt as proof.",
)

#: Text of scanned letters (no text layer: images only), one per page.
SCANNED_PAGES = (
    ("Invoice 4471", "Boiler repair and new pressure valve", "Total due: 180 euros within 30 days"),
    ("Dear neighbour,", "the street party moves to Saturday", "because of the marathon on Sunday."),
    ("Dentist appointment reminder", "Tuesday at half past nine", "please bring your insurance card"),
)


def screenshot(lines: Sequence[str] = ("Network settings", "Wireless enabled", "Firewall rules", "Proxy configuration"),
               size: tuple[int, int] = (1280, 800)) -> Image.Image:
    """A desktop-like screenshot: a title bar and a settings list in DejaVu Sans."""
    image = Image.new("RGB", size, (238, 238, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 44), fill=(48, 60, 92))
    draw.text((20, 8), lines[0], fill="white", font=font(24))
    for i, line in enumerate(lines[1:]):
        draw.rectangle((30, 80 + 60 * i, 620, 124 + 60 * i), outline=(180, 180, 180), fill="white")
        draw.text((44, 88 + 60 * i), line, fill=(20, 20, 20), font=font(22))
    return image


def document_library(root: Path) -> Path:
    """A small library of real documents: a multi-page manual, a scanned PDF, a screenshot and one
    file of each office format, with metadata; and a broken file of each kind."""
    root.mkdir(parents=True, exist_ok=True)
    write_pdf(root / "manual.pdf", MANUAL_PAGES, title="Washer-Dryer WD-200 User Manual", author="Acme Appliances",
              created=datetime(2019, 3, 14, 9, 30))
    write_scanned_pdf(root / "letters-scan.pdf", [page_image(lines) for lines in SCANNED_PAGES])
    screenshot().save(root / "settings-screenshot.png")
    write_docx(root / "garden.docx", ["Garden plans", "Plant the tomatoes along the sunny south fence in May.",
                                      "Prune the old apple tree while it sleeps in winter."], title="Garden plans", author="Bo Lind")
    write_odt(root / "ferry.odt", ["Island trip", "The first ferry to the island leaves the harbour at dawn."], title="Island trip")
    write_html(root / "museum.html", ["The railway museum opens its steam locomotive hall on Sundays.",
                                      "Tickets cost <b>ten</b> euros for adults."], title="Railway museum")
    write_epub(root / "lighthouse.epub", [("Chapter One", "The lighthouse keeper climbed the spiral stairs to light the lamp."),
                                          ("Chapter Two", "By midnight a storm rolled in from the west.")],
               title="The Keeper", author="Ida North")
    return root
