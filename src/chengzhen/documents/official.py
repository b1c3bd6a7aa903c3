"""The one builder of Chinese official documents (公文) as .docx, in the GB/T 9704-2012 layout.

Used by supervision letters (督办函) and, later, periodic bulletins (工作通报) and assessment
reports. A caller describes the document as data (``OfficialDocument`` holding ``Heading``,
``Paragraph`` and ``Table`` blocks) and gets the .docx back as bytes; no Django here, only
python-docx and the standard library.

GB/T 9704-2012 elements followed (section 5 for the page, section 7 for the elements):

- Paper and 版心: A4 (210 × 297 mm), 天头 37 mm, 订口 28 mm, so a 156 × 225 mm 版心
  (bottom margin 35 mm, right margin 26 mm).
- 字体和字号, 行数和字数: body 3号仿宋 (仿宋_GB2312 16 pt); 22 lines a page at a fixed
  28.95 pt and 28 characters a line (a "lines and characters" document grid whose pitch is the
  版心 width ÷ 28). Paragraphs not in body size are taken off the grid, so a large title or
  small table text is not spread out to whole grid cells.
- 版头: the 发文机关标志 in red 小标宋 (方正小标宋简体), centred, its top 35 mm below the
  版心 top, shrunk to fit the 版心 width; the 发文字号 centred two lines under it; the red
  分隔线 the width of the 版心 4 mm under the 发文字号.
- 标题: 2号小标宋 (方正小标宋简体 22 pt), centred, two lines under the 分隔线; a newline in the
  title breaks the line (the caller decides the 梯形/菱形 shape).
- 主送机关: one line under the title, flush left, ending in a full-width colon.
- 正文: each paragraph indented two characters, justified; the 结构层次序数 level 1 (“一、”)
  in 黑体 and level 2 (“（一）”) in 楷体 (楷体_GB2312), numbers written by the caller.
- 附件说明: one line under the body, two characters in, “附件：” and the name; several
  attachments numbered “1. ”, “2. ” and aligned under the first name, long names wrapped
  under their first character.
- 发文机关署名和成文日期, the rule for documents without a seal: the 署名 one line under the
  body (or 附件说明), two characters from the right, the 成文日期 under it with its first
  character two characters right of the 署名's first; a date longer than the 署名 sits two
  characters from the right and the 署名 moves left. The date in Arabic numerals, year in full,
  no leading zeros: 2026年12月2日.
- 版记 抄送机关: 4号仿宋 between two rules (0.35 mm) the width of the 版心, one character in
  from each side, wrapped lines aligned after “抄送：”, ending in a full stop.
- 页码: 4号半角宋体 Arabic numerals between 一字线, “— N —”, about 7 mm under the 版心, as a
  PAGE field so Word and WPS number the pages themselves; centred (the standard's odd-right /
  even-left placement is left out).

Not done: 份号, 密级和保密期限, 紧急程度 and 签发人 in the 版头; the seal layout; 附注; the
印发机关和印发日期 line of the 版记, and placing the 版记 at the foot of an even last page (it
follows the body); the 信函格式 (double red rules, 发文字号 on the right).

Text is always written as text (python-docx escapes it into ``w:t``), never read as markup.
Characters XML 1.0 cannot hold (control characters other than tab and newline, lone
surrogates, U+FFFE/U+FFFF) are removed rather than failing the whole document.

Why python-docx: it is the maintained, widely used library for writing .docx from Python (MIT
licence, pure Python over lxml, already a dependency), it writes a valid package (content
types, relations, styles, footer parts), and it exposes the underlying XML for the few things
it has no API for (East Asian font names, the document grid, paragraph borders, fields,
repeated table headers). Hand-writing WordprocessingML or driving LibreOffice would be more
code or a heavy runtime dependency for no gain.
"""

from __future__ import annotations

import copy
import datetime
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tc
from docx.shared import Emu, Length, Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

__all__ = ["Block", "Heading", "OfficialDocument", "Paragraph", "Table", "build", "write"]

# -- page (GB/T 9704-2012 5.2) ------------------------------------------------------------
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 37, 35, 28, 26
LINE_PT = 28.95  # 225 mm 版心 ÷ 22 lines ≈ 28.99 pt; 28.95 pt is the customary setting
HEADER_DISTANCE_MM = 15
# The 一字线 of the page number is about 7 mm under the 版心 (35 mm margin): the footer's
# bottom edge sits about half a 14 pt line lower. Approximate; Word lays out the footer line.
FOOTER_DISTANCE_MM = 25.5

# -- fonts and sizes (号 → pt) -------------------------------------------------------------
FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
SIZE_2 = 22.0  # 2号
SIZE_3 = 16.0  # 3号
CONDENSE_TWIPS = -5  # −0.25 pt a character: 28 × 15.75 pt fits the 156 mm (442.2 pt) line
SIZE_4 = 14.0  # 4号
SIZE_TABLE = 12.0  # 小4号
ISSUER_MAX_PT = 36.0  # 小初; shrunk so a long 发文机关标志 still fits the 版心 width
RED = RGBColor(0xFF, 0x00, 0x00)

# Characters XML 1.0 cannot carry, plus the other C0/C1 controls; tab and newline are kept.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029]")

# Element order inside w:pPr and w:tblPr (ECMA-376), for the children python-docx has no API for.
_PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
    "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
    "sectPr", "pPrChange",
)
_RPR_ORDER = (
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
    "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden",
    "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr",
    "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish",
    "oMath",
)
_TBLPR_ORDER = (
    "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
    "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar",
    "tblLook", "tblCaption", "tblDescription",
)


# -- the document as data -------------------------------------------------------------------
@dataclass(frozen=True)
class Heading:
    """A structural heading: level 1 in 黑体 3号 (“一、…”), level 2 in 楷体_GB2312 3号 (“（一）…”).

    The text is written as given, numbering included.
    """

    text: str
    level: int = 1

    def __post_init__(self) -> None:
        if self.level not in (1, 2):
            raise ValueError(f"heading level must be 1 or 2, not {self.level!r}")
        if not _lines(self.text):
            raise ValueError("heading text is empty")


@dataclass(frozen=True)
class Paragraph:
    """Body text in 仿宋_GB2312 3号, first line indented two characters.

    Each line of the text becomes its own paragraph; blank lines and leading or trailing
    spaces (including the full-width spaces of hand indentation) are dropped.
    """

    text: str


@dataclass(frozen=True)
class Table:
    """A grid-bordered table: header row bold and repeated on each page, numbers right-aligned.

    Cells: None is empty, int/float/Decimal are written with ``str()``, dates as YYYY-MM-DD
    (date-times as YYYY-MM-DD HH:MM), True/False as 是/否, anything else with ``str()``.
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    title: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.columns, str):
            raise TypeError("table columns must be a sequence of names, not a str")
        columns = tuple(self.columns)
        if not columns:
            raise ValueError("table has no columns")
        rows = tuple(tuple(row) for row in self.rows)
        for number, row in enumerate(rows, start=1):
            if len(row) != len(columns):
                raise ValueError(f"table row {number} has {len(row)} cells, expected {len(columns)}")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rows", rows)


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class OfficialDocument:
    """A 公文: 版头 (issuer, number), 主体 (title, recipient, body, attachments, signature, date), 版记."""

    title: str
    body: Sequence[Block]
    issuer: str = ""
    number: str = ""
    recipient: str = ""
    signature: str = ""
    date: datetime.date | None = None
    attachments: Sequence[str] = ()
    copy_to: str = ""

    def __post_init__(self) -> None:
        if not _lines(self.title):
            raise ValueError("title is empty")
        if isinstance(self.attachments, str):
            raise TypeError("attachments must be a sequence of names, not a str")
        body = tuple(self.body)
        for number, block in enumerate(body, start=1):
            if not isinstance(block, Heading | Paragraph | Table):
                raise TypeError(f"body block {number} is a {type(block).__name__}, "
                                "not a Heading, Paragraph or Table")
        if not any(not isinstance(block, Paragraph) or _lines(block.text) for block in body):
            raise ValueError("body is empty")
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "attachments", tuple(self.attachments))


# -- public entry points --------------------------------------------------------------------
def build(doc: OfficialDocument) -> bytes:
    """The document as .docx bytes."""
    document = Document()
    _set_up(document, doc)
    if _lines(doc.issuer) or _lines(doc.number):
        _masthead(document, doc.issuer, doc.number)
    _title(document, doc.title)
    _blank(document)
    if _lines(doc.recipient):
        recipient = _one_line(doc.recipient).rstrip(":：")
        _paragraph(document, recipient + "：", FANGSONG, SIZE_3)
    last = None
    for block in doc.body:
        if isinstance(block, Heading):
            last = _heading(document, block)
        elif isinstance(block, Paragraph):
            for line in _lines(block.text):
                last = _paragraph(document, line, FANGSONG, SIZE_3, first_line=2,
                                  align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        else:
            _table(document, block)
            last = None
    attachments = [" ".join(_lines(name)) for name in doc.attachments if _lines(name)]
    signed = bool(_lines(doc.signature) or doc.date)
    if (attachments or signed) and last is not None:
        _keep(last)  # the page with the signature keeps at least a line of the body
    if attachments:
        _keep(_blank(document))
        _attachments(document, attachments)
    if signed:
        _keep(_blank(document))
        _signature(document, doc.signature, doc.date)
    if _lines(doc.copy_to):
        _blank(document)
        _copy_to(document, doc.copy_to)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write(doc: OfficialDocument, path: str | os.PathLike[str]) -> None:
    """Write the document as a .docx file at ``path``."""
    with open(path, "wb") as f:
        f.write(build(doc))


# -- text -----------------------------------------------------------------------------------
def _clean(text: object) -> str:
    """Text XML can carry: newlines unified to \\n, other controls removed."""
    return _UNWRITABLE.sub("", _NEWLINES.sub("\n", str(text)))


def _lines(text: object) -> list[str]:
    """The non-blank lines of the text, stripped."""
    return [line.strip() for line in _clean(text).split("\n") if line.strip()]


def _one_line(text: str) -> str:
    """The text's lines kept in one paragraph (python-docx writes \\n as a line break)."""
    return "\n".join(_lines(text))


def _width(text: str) -> float:
    """Width in characters of the body font: CJK and full-width 1, Latin and digits ½."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "FWA" else 0.5 for ch in text)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return _clean(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _date_text(date: datetime.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


# -- XML helpers ----------------------------------------------------------------------------
def _child(parent, tag: str, order: Sequence[str]):
    """The parent's ``w:tag`` child, added in schema order if missing."""
    existing = parent.find(qn(f"w:{tag}"))
    if existing is not None:
        return existing
    element = OxmlElement(f"w:{tag}")
    later = {qn(f"w:{name}") for name in order[order.index(tag) + 1:]}
    for index, sibling in enumerate(parent):
        if sibling.tag in later:
            parent.insert(index, element)
            return element
    parent.append(element)
    return element


def _set_fonts(rPr, name: str) -> None:
    """East Asian and Latin font names alike, so digits and letters match the Chinese text."""
    rFonts = rPr.get_or_add_rFonts()
    for attr in list(rFonts.attrib):
        if attr.lower().endswith("theme"):  # a theme font would override the name
            del rFonts.attrib[attr]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        rFonts.set(qn(f"w:{slot}"), name)
    rFonts.set(qn("w:hint"), "eastAsia")


def _run(paragraph: DocxParagraph, text: str, font: str, size: float, *, bold: bool = False,
         color: RGBColor | None = None):
    run = paragraph.add_run(text)
    _set_fonts(run._r.get_or_add_rPr(), font)
    run.font.size = Pt(size)
    if size == SIZE_3:
        # 28 characters to the 156 mm line: 3号 text condensed by a quarter point, which every
        # word processor honours (a character grid is laid out differently by each)
        _child(run._r.get_or_add_rPr(), "spacing", _RPR_ORDER).set(qn("w:val"), str(CONDENSE_TWIPS))
    if bold:
        run.font.bold = True
    if color is not None:
        run.font.color.rgb = color
    return run


def _format(paragraph: DocxParagraph, size: float, *, align=None, line: float | None = LINE_PT,
            first_line: float = 0, left: float = 0, right: float = 0, grid: bool = True) -> None:
    """Paragraph layout; indents in characters of ``size``, ``line=None`` for single spacing."""
    pf = paragraph.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line is None:
        pf.line_spacing = 1.0
    else:
        pf.line_spacing = Pt(line)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if align is not None:
        pf.alignment = align
    pPr = paragraph._p.get_or_add_pPr()
    if not grid:
        _child(pPr, "snapToGrid", _PPR_ORDER).set(qn("w:val"), "0")
    if first_line or left or right:
        ind = pPr.get_or_add_ind()
        for name, chars in (("left", left), ("right", right)):
            if chars:
                ind.set(qn(f"w:{name}"), str(round(chars * size * 20)))
                ind.set(qn(f"w:{name}Chars"), str(round(chars * 100)))
        if first_line > 0:
            ind.set(qn("w:firstLine"), str(round(first_line * size * 20)))
            ind.set(qn("w:firstLineChars"), str(round(first_line * 100)))
        elif first_line < 0:
            ind.set(qn("w:hanging"), str(round(-first_line * size * 20)))
            ind.set(qn("w:hangingChars"), str(round(-first_line * 100)))


def _paragraph(container, text: str, font: str, size: float, *, bold: bool = False,
               color: RGBColor | None = None, **layout) -> DocxParagraph:
    paragraph = container.add_paragraph()
    _format(paragraph, size, **layout)
    if text:
        _run(paragraph, text, font, size, bold=bold, color=color)
    return paragraph


def _blank(document) -> DocxParagraph:
    return _paragraph(document, "", FANGSONG, SIZE_3)


def _keep(paragraph: DocxParagraph) -> DocxParagraph:
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _border(parent, edge: str, *, val: str = "single", size_eighths: int = 4, space: int = 0,
            color: str = "auto") -> None:
    element = parent.find(qn(f"w:{edge}"))
    if element is None:
        element = OxmlElement(f"w:{edge}")
        parent.append(element)  # callers add edges in schema order: top, left, bottom, right, insideH, insideV
    element.set(qn("w:val"), val)
    element.set(qn("w:sz"), str(size_eighths))
    element.set(qn("w:space"), str(space))
    element.set(qn("w:color"), color)


# -- document set-up ------------------------------------------------------------------------
def _set_up(document, doc: OfficialDocument) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance, section.footer_distance = Mm(HEADER_DISTANCE_MM), Mm(FOOTER_DISTANCE_MM)
    section.gutter = Emu(0)

    # 22 lines of 28.95 pt (a line grid); 28 characters a line come from the runs' spacing.
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))

    # Defaults: 仿宋_GB2312 3号, Chinese language, no spacing after paragraphs.
    styles = document.styles.element
    rPr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rPr_default, FANGSONG)
    for tag in ("w:sz", "w:szCs"):
        rPr_default.find(qn(tag)).set(qn("w:val"), str(round(SIZE_3 * 2)))
    lang = rPr_default.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    normal = document.styles["Normal"]
    _set_fonts(normal.element.get_or_add_rPr(), FANGSONG)
    normal.font.size = Pt(SIZE_3)

    props = document.core_properties
    props.title = _one_line(doc.title).replace("\n", "")
    props.author = _one_line(doc.issuer or doc.signature).replace("\n", "")
    props.last_modified_by = ""
    props.comments = ""
    props.language = "zh-CN"
    props.revision = 1
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    props.created = props.modified = now

    # The template's preview picture would show a blank page, not this document.
    package_rels = document.part.package.rels
    for rId in [rId for rId, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
        del package_rels[rId]

    _page_number(section.footer)


def _text_width(document) -> Length:
    section = document.sections[0]
    return Emu(section.page_width - section.left_margin - section.right_margin)


def _page_number(footer) -> None:
    """“— N —” in 4号宋体, centred, N a PAGE field."""
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    _format(paragraph, SIZE_4, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, grid=False)
    _run(paragraph, "— ", SONGTI, SIZE_4)
    _field_char(_run(paragraph, "", SONGTI, SIZE_4), "begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    _run(paragraph, "", SONGTI, SIZE_4)._r.append(instruction)
    _field_char(_run(paragraph, "", SONGTI, SIZE_4), "separate")
    _run(paragraph, "1", SONGTI, SIZE_4)  # shown until the field is updated
    _field_char(_run(paragraph, "", SONGTI, SIZE_4), "end")
    _run(paragraph, " —", SONGTI, SIZE_4)


def _field_char(run, kind: str) -> None:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    run._r.append(element)


# -- parts of the document ------------------------------------------------------------------
def _masthead(document, issuer: str, number: str) -> None:
    """发文机关标志 (red, centred, 35 mm under the 版心 top), 发文字号 and the red 分隔线."""
    if _lines(issuer):
        text = _one_line(issuer)
        widest = max(_width(line) for line in text.split("\n"))
        size = min(ISSUER_MAX_PT, int(_text_width(document).pt / widest * 2) / 2)
        paragraph = _paragraph(document, text, XIAOBIAOSONG, size, color=RED,
                               align=WD_ALIGN_PARAGRAPH.CENTER, line=None, grid=False)
        paragraph.paragraph_format.space_before = Mm(35)
        _blank(document)
        _blank(document)
    paragraph = _paragraph(document, _one_line(number), FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    if _lines(issuer):
        # The 分隔线: a red bottom border on the 发文字号 line, 4 mm (about 11 pt) under it.
        pBdr = _child(paragraph._p.get_or_add_pPr(), "pBdr", _PPR_ORDER)
        _border(pBdr, "bottom", size_eighths=12, space=11, color=str(RED))
    _blank(document)
    _blank(document)


def _title(document, title: str) -> None:
    _paragraph(document, _one_line(title), XIAOBIAOSONG, SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, grid=False)


def _heading(document, heading: Heading) -> DocxParagraph:
    font = HEITI if heading.level == 1 else KAITI
    paragraph = _paragraph(document, _one_line(heading.text), font, SIZE_3, first_line=2,
                           align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph.paragraph_format.keep_with_next = True
    _child(paragraph._p.get_or_add_pPr(), "outlineLvl", _PPR_ORDER).set(qn("w:val"), str(heading.level - 1))
    return paragraph


def _table(document, table: Table) -> None:
    if _lines(table.title):
        _keep(_paragraph(document, _one_line(table.title), HEITI, SIZE_4, align=WD_ALIGN_PARAGRAPH.CENTER,
                         grid=False))
    texts = [[_cell_text(value) for value in row] for row in table.rows]
    headers = [_one_line(name) for name in table.columns]
    widths = _column_widths(headers, texts, _text_width(document))

    grid_table = document.add_table(rows=0, cols=len(headers))
    grid_table.style = document.styles["Table Grid"]
    grid_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(grid_table.columns, widths, strict=True):
        column.width = width

    header = grid_table.add_row()
    trPr = header._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        trPr.append(OxmlElement(tag))
    for tc, text in zip(header._tr.tc_lst, headers, strict=True):
        _cell(_Cell(tc, grid_table), text, WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    # Data rows from per-column prototype cells (formatting built once, copied): python-docx's
    # per-cell setters would take seconds for a table of a few thousand rows.
    prototypes: dict[tuple[int, WD_ALIGN_PARAGRAPH], CT_Tc] = {}
    tbl = grid_table._tbl
    for values, row_texts in zip(table.rows, texts, strict=True):
        tr = tbl.add_tr()
        for index, (value, text) in enumerate(zip(values, row_texts, strict=True)):
            align = _cell_alignment(value)
            prototype = prototypes.get((index, align))
            if prototype is None:
                prototype = prototypes[(index, align)] = CT_Tc.new()
                prototype.width = widths[index]
                _cell(_Cell(prototype, grid_table), "-", align)
            tc = copy.deepcopy(prototype)
            tc.p_lst[0].r_lst[0].text = text
            tr.append(tc)


def _cell_alignment(value: object) -> WD_ALIGN_PARAGRAPH:
    if _is_number(value):
        return WD_ALIGN_PARAGRAPH.RIGHT
    if isinstance(value, datetime.date):
        return WD_ALIGN_PARAGRAPH.CENTER
    return WD_ALIGN_PARAGRAPH.LEFT


def _column_widths(headers: Sequence[str], rows: Iterable[Sequence[str]], total: Length) -> list[Emu]:
    """Widths in proportion to the widest content (capped), so 序号 is narrow and 名称 wide."""
    weights = [_width(max(name.split("\n"), key=_width)) for name in headers]
    for row in rows:
        for index, text in enumerate(row):
            for line in text.split("\n"):
                weights[index] = max(weights[index], _width(line))
    weights = [min(max(weight, 2.0), 24.0) + 1.0 for weight in weights]  # +1: the cell margins
    share = total / sum(weights)
    return [Emu(int(share * weight)) for weight in weights]


def _cell(cell: _Cell, text: str, align, *, bold: bool = False) -> None:
    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    paragraph = cell.paragraphs[0]
    _format(paragraph, SIZE_TABLE, align=align, line=None, grid=False)
    if text:
        _run(paragraph, text, FANGSONG, SIZE_TABLE, bold=bold)


def _attachments(document, names: Sequence[str]) -> None:
    """“附件：1. …” two characters in; later numbers and wrapped lines under the first name."""
    several = len(names) > 1
    for index, name in enumerate(names, start=1):
        number = f"{index}. " if several else ""
        hang = _width(number) + (3 if index == 1 else 0)  # 3: “附件：”
        text = ("附件：" if index == 1 else "") + number + name
        _keep(_paragraph(document, text, FANGSONG, SIZE_3, left=2 + 3 + _width(number), first_line=-hang))


def _signature(document, signature: str, date: datetime.date | None) -> None:
    """署名 two characters from the right, the date under it two characters further right."""
    sig = _one_line(signature)
    sig_width = max((_width(line) for line in sig.split("\n")), default=0.0)
    date_text = _date_text(date) if date else ""
    date_right = max(2.0, sig_width - _width(date_text)) if sig else 2.0
    sig_right = date_right + _width(date_text) + 2 - sig_width if date_text else 2.0
    if sig:
        _keep(_paragraph(document, sig, FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT, right=sig_right))
    if date_text:
        _paragraph(document, date_text, FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT, right=date_right)


def _copy_to(document, copy_to: str) -> None:
    """版记: “抄送：…。” in 4号仿宋 between two rules the width of the 版心."""
    text = " ".join(_lines(copy_to)).rstrip("。.，,；;、")
    table = document.add_table(rows=1, cols=1)
    tblPr = table._tbl.tblPr
    tblW = _child(tblPr, "tblW", _TBLPR_ORDER)
    tblW.set(qn("w:w"), str(round(_text_width(document).pt * 20)))
    tblW.set(qn("w:type"), "dxa")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    borders = _child(tblPr, "tblBorders", _TBLPR_ORDER)
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if edge in ("top", "bottom"):  # 0.35 mm ≈ 1 pt
            _border(borders, edge, size_eighths=8)
        else:
            _border(borders, edge, val="nil")
    margins = _child(tblPr, "tblCellMar", _TBLPR_ORDER)
    for edge in ("left", "right"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:w"), "0")
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    table.columns[0].width = _text_width(document)
    cell = table.cell(0, 0)
    cell.width = _text_width(document)
    paragraph = cell.paragraphs[0]
    _format(paragraph, SIZE_4, align=WD_ALIGN_PARAGRAPH.JUSTIFY, left=1 + 3, right=1, first_line=-3, grid=False)
    _run(paragraph, f"抄送：{text}。", FANGSONG, SIZE_4)
    # Word needs a paragraph after a final table; keep it tiny so it cannot push a blank page.
    tail = document.add_paragraph()
    _format(tail, 1, line=1, grid=False)
