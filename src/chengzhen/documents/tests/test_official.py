"""The official-document (公文) builder: documents written to disk and read back with python-docx."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt

from chengzhen.documents import official
from chengzhen.documents.official import Heading, OfficialDocument, Paragraph, Table, build, write

SIGNATURE = "示范县城镇建设督查办公室"  # 12 characters wide
LETTER = OfficialDocument(
    title="关于加快推进青山镇重点镇建设任务的督办函",
    body=[
        Paragraph("根据县委、县政府工作安排，现将有关事项督办如下。"),
        Heading("一、督办事项"),
        Paragraph("青山镇污水管网工程进度滞后。"),
        Heading("（一）整改要求", level=2),
        Paragraph("请于2026年12月31日前完成整改。"),
    ],
    issuer="示范县城镇建设工作领导小组办公室",
    number="城督〔2026〕3号",
    recipient="青山镇人民政府",
    signature=SIGNATURE,
    date=dt.date(2026, 12, 2),
    attachments=["督办任务清单"],
    copy_to="县委办，县政府办",
)


def written(tmp_path: Path, doc: OfficialDocument) -> docx.document.Document:
    path = tmp_path / "公文.docx"
    write(doc, path)
    return docx.Document(str(path))


def simple(*body, **fields) -> OfficialDocument:
    return OfficialDocument(title=fields.pop("title", "关于工作进展情况的通报"),
                            body=body or [Paragraph("正文。")], **fields)


def paragraph(document, text: str):
    matches = [p for p in document.paragraphs if p.text == text]
    assert len(matches) == 1, [p.text for p in document.paragraphs]
    return matches[0]


def fonts(run) -> set[str]:
    """The run's font names across the East Asian, Latin (ascii, hAnsi) slots."""
    rFonts = run._r.rPr.rFonts
    return {rFonts.get(qn(f"w:{slot}")) for slot in ("eastAsia", "ascii", "hAnsi")}


def assert_font(p, name: str, size_pt: float) -> None:
    assert p.runs, p.text
    for run in p.runs:
        assert fonts(run) == {name}
        assert run.font.size == Pt(size_pt)


def assert_mm(length, mm: float) -> None:
    assert abs(length.mm - mm) <= 0.1, (length.mm, mm)


# -- page ------------------------------------------------------------------------------------
def test_a4_page_with_the_standard_margins(tmp_path):
    section = written(tmp_path, LETTER).sections[0]
    assert_mm(section.page_width, 210)
    assert_mm(section.page_height, 297)
    assert_mm(section.top_margin, 37)
    assert_mm(section.bottom_margin, 35)
    assert_mm(section.left_margin, 28)
    assert_mm(section.right_margin, 26)


def test_22_lines_of_28_characters(tmp_path):
    document = written(tmp_path, LETTER)
    section = document.sections[0]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"  # a character grid renders differently in each program
    assert int(grid.get(qn("w:linePitch"))) == 579  # 28.95 pt
    width_pt = Emu(section.page_width - section.left_margin - section.right_margin).pt
    height_pt = Emu(section.page_height - section.top_margin - section.bottom_margin).pt
    run = paragraph(document, "青山镇污水管网工程进度滞后。").runs[0]
    spacing = run._r.rPr.find(qn("w:spacing"))
    pitch_pt = 16 + int(spacing.get(qn("w:val"))) / 20  # 3号 text condensed a little
    assert int(width_pt // pitch_pt) == 28
    assert int(height_pt // 28.95) == 22
    body = paragraph(document, "青山镇污水管网工程进度滞后。").paragraph_format
    assert body.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert abs(body.line_spacing.pt - 28.95) < 0.01


# -- fonts -------------------------------------------------------------------------------------
def test_default_font_is_fangsong(tmp_path):
    document = written(tmp_path, LETTER)
    normal = document.styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert normal.font.size == Pt(16)
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rFonts = defaults.find(qn("w:rFonts"))
    assert rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert not [name for name in rFonts.attrib if name.lower().endswith("theme")]  # no theme font wins over it


def test_title_in_xiaobiaosong_2hao_centred(tmp_path):
    title = paragraph(written(tmp_path, LETTER), LETTER.title)
    assert_font(title, "方正小标宋简体", 22)
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_title_newline_breaks_the_line_not_the_paragraph(tmp_path):
    document = written(tmp_path, simple(title="关于青山镇重点镇建设\n推进情况的通报"))
    title = paragraph(document, "关于青山镇重点镇建设\n推进情况的通报")
    assert title._p.findall(f".//{qn('w:br')}")


def test_body_in_fangsong_3hao_indented_two_characters(tmp_path):
    body = paragraph(written(tmp_path, LETTER), "青山镇污水管网工程进度滞后。")
    assert_font(body, "仿宋_GB2312", 16)
    assert body.paragraph_format.first_line_indent == Pt(32)  # two 16 pt characters
    assert body._p.pPr.ind.get(qn("w:firstLineChars")) == "200"
    assert body.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY


def test_headings_in_heiti_and_kaiti(tmp_path):
    document = written(tmp_path, LETTER)
    first, second = paragraph(document, "一、督办事项"), paragraph(document, "（一）整改要求")
    assert_font(first, "黑体", 16)
    assert_font(second, "楷体_GB2312", 16)
    for heading, outline in ((first, "0"), (second, "1")):
        assert heading.paragraph_format.first_line_indent == Pt(32)
        assert heading.paragraph_format.keep_with_next
        assert heading._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == outline


# -- page number -------------------------------------------------------------------------------
def test_footer_has_a_page_field_between_dashes_in_songti_4hao(tmp_path):
    footer = written(tmp_path, LETTER).sections[0].footer
    assert not footer.is_linked_to_previous
    (number,) = footer.paragraphs
    assert number.text == "— 1 —"  # the field's shown result is 1 until Word updates it
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert_font(number, "宋体", 14)
    codes = []
    for element in number._p.iter(qn("w:fldChar"), qn("w:instrText")):
        codes.append(element.text.strip() if element.tag == qn("w:instrText")
                     else element.get(qn("w:fldCharType")))
    assert codes == ["begin", "PAGE", "separate", "end"]


# -- 版头, 主送, 署名, 附件, 版记 ------------------------------------------------------------
def test_issuer_red_number_centred_with_a_red_rule(tmp_path):
    document = written(tmp_path, LETTER)
    issuer = document.paragraphs[0]
    assert issuer.text == LETTER.issuer
    assert issuer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert_mm(issuer.paragraph_format.space_before, 35)
    for run in issuer.runs:
        assert fonts(run) == {"方正小标宋简体"}
        assert str(run.font.color.rgb) == "FF0000"
        assert run.font.size.pt * len(LETTER.issuer) <= (Mm(156).pt + 1)  # fits the 版心 width
    number = paragraph(document, "城督〔2026〕3号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert_font(number, "仿宋_GB2312", 16)
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:val")) == "single"
    assert rule.get(qn("w:color")) == "FF0000"
    texts = [p.text for p in document.paragraphs]
    assert texts[:7] == [LETTER.issuer, "", "", "城督〔2026〕3号", "", "", LETTER.title]


def test_without_issuer_the_title_comes_first_and_there_is_no_rule(tmp_path):
    document = written(tmp_path, simple())
    assert document.paragraphs[0].text == "关于工作进展情况的通报"
    assert not document.element.body.findall(f".//{qn('w:pBdr')}")


@pytest.mark.parametrize("given", ["青山镇人民政府", "青山镇人民政府：", "青山镇人民政府:"])
def test_recipient_ends_in_one_full_width_colon(tmp_path, given):
    document = written(tmp_path, simple(recipient=given))
    recipient = paragraph(document, "青山镇人民政府：")
    assert recipient.paragraph_format.first_line_indent is None  # 顶格
    assert_font(recipient, "仿宋_GB2312", 16)
    texts = [p.text for p in document.paragraphs]
    assert texts.index("青山镇人民政府：") == texts.index("关于工作进展情况的通报") + 2  # one line under the title


def test_signature_and_date_right_with_the_date_two_characters_in(tmp_path):
    document = written(tmp_path, LETTER)
    texts = [p.text for p in document.paragraphs]
    assert texts.index("2026年12月2日") == texts.index(SIGNATURE) + 1
    signature, date = paragraph(document, SIGNATURE), paragraph(document, "2026年12月2日")
    assert signature.alignment == date.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert_font(date, "仿宋_GB2312", 16)
    assert signature.paragraph_format.right_indent == Pt(32)  # 右空二字
    # The date's first character two characters right of the signature's: 12 wide against 6.5.
    sig_start = signature.paragraph_format.right_indent.pt + 12 * 16
    date_start = date.paragraph_format.right_indent.pt + 6.5 * 16
    assert sig_start - date_start == 32


def test_a_date_longer_than_the_signature_stays_two_characters_in(tmp_path):
    document = written(tmp_path, simple(signature="督查办", date=dt.date(2026, 1, 5)))
    signature, date = paragraph(document, "督查办"), paragraph(document, "2026年1月5日")  # no leading zeros
    assert date.paragraph_format.right_indent == Pt(32)
    sig_start = signature.paragraph_format.right_indent.pt + 3 * 16
    date_start = date.paragraph_format.right_indent.pt + 6 * 16  # 2026年1月5日: 6 wide
    assert sig_start - date_start == 32


def test_one_attachment_is_not_numbered(tmp_path):
    document = written(tmp_path, LETTER)
    line = paragraph(document, "附件：督办任务清单")
    pf = line.paragraph_format
    assert pf.left_indent + pf.first_line_indent == Pt(32)  # “附件” two characters in
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("附件：督办任务清单") - 1] == ""  # one line under the body


def test_several_attachments_are_numbered_and_aligned(tmp_path):
    document = written(tmp_path, simple(attachments=["督办任务清单", "进度表\x00"]))
    first, second = paragraph(document, "附件：1. 督办任务清单"), paragraph(document, "2. 进度表")
    one, two = first.paragraph_format, second.paragraph_format
    assert one.left_indent + one.first_line_indent == Pt(32)
    assert two.left_indent + two.first_line_indent == Pt(32 + 3 * 16)  # under “1.”, after “附件：”
    assert one.left_indent == two.left_indent  # long names wrap under their first character


def test_copy_to_in_the_closing_block_between_rules(tmp_path):
    document = written(tmp_path, LETTER)
    closing = document.tables[-1]
    assert closing.cell(0, 0).text == "抄送：县委办，县政府办。"
    assert_font(closing.cell(0, 0).paragraphs[0], "仿宋_GB2312", 14)
    borders = closing._tbl.tblPr.find(qn("w:tblBorders"))
    assert {edge: borders.find(qn(f"w:{edge}")).get(qn("w:val")) for edge in ("top", "bottom", "left", "right")} == {
        "top": "single", "bottom": "single", "left": "nil", "right": "nil"}
    assert closing._tbl.getnext().getnext().tag == qn("w:sectPr")  # the last thing in the document
    again = written(tmp_path, simple(copy_to="县委办。"))
    assert again.tables[-1].cell(0, 0).text == "抄送：县委办。"
    assert not written(tmp_path, simple()).tables


# -- text ------------------------------------------------------------------------------------
def test_newlines_in_a_paragraph_make_paragraphs(tmp_path):
    document = written(tmp_path, simple(Paragraph("第一段。\n\n　　第二段。\r\n第三段。")))
    for text in ("第一段。", "第二段。", "第三段。"):
        assert paragraph(document, text).paragraph_format.first_line_indent == Pt(32)


def test_text_is_written_as_text(tmp_path):
    text = '<w:r><w:rPr><w:b/></w:rPr><w:t>粗</w:t></w:r> & </w:p> {{ x }} &amp; <script>'
    document = written(tmp_path, simple(Paragraph(text), Table([text], [[text]]), title="标题" + text))
    assert paragraph(document, "标题" + text)
    body = paragraph(document, text)
    assert len(body.runs) == 1
    assert body.runs[0].font.bold is None
    assert document.tables[0].cell(1, 0).text == text


def test_control_characters_are_removed(tmp_path):
    dirty = "前\x00\x01\x08\x0b\x0c\x1b\x7f\x85中\ud800\ufffe后"
    document = written(tmp_path, simple(
        Paragraph(dirty), Paragraph("甲\t乙"), Paragraph("\x00\x01"),
        Table(["名\x07称"], [[dirty]]),
        title="标题\x0c", recipient="青山镇\x1f"))
    assert paragraph(document, "前中后").text == "前中后"
    assert paragraph(document, "甲\t乙")  # tab kept
    assert paragraph(document, "标题")
    assert paragraph(document, "青山镇：")
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["名称"]
    assert [c.text for c in table.rows[1].cells] == ["前中后"]


# -- tables ----------------------------------------------------------------------------------
TABLE = Table(
    columns=["序号", "任务名称", "投资（万元）", "完成率", "完成时限", "备注"],
    rows=[
        [1, "污水管网\n一期", Decimal("1250.50"), 0.75, dt.date(2026, 3, 1), None],
        [2, "道路提质", Decimal("80"), 1.0, None, True],
    ],
    title="表1 重点任务推进情况",
)


def test_table_cells_read_back(tmp_path):
    document = written(tmp_path, simple(Paragraph("情况如下。"), TABLE))
    (table,) = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells == [
        ["序号", "任务名称", "投资（万元）", "完成率", "完成时限", "备注"],
        ["1", "污水管网\n一期", "1250.50", "0.75", "2026-03-01", ""],
        ["2", "道路提质", "80", "1.0", "", "是"],
    ]
    other = written(tmp_path, simple(Table(["时间", "值"], [[dt.datetime(2026, 3, 1, 9, 30), -0.1], [False, "\t甲"]])))
    assert [[cell.text for cell in row.cells] for row in other.tables[0].rows[1:]] == [
        ["2026-03-01 09:30", "-0.1"], ["否", "\t甲"]]
    title = paragraph(document, "表1 重点任务推进情况")
    assert title._p.getnext() is table._tbl  # the title right above its table
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_table_layout(tmp_path):
    (table,) = written(tmp_path, simple(TABLE)).tables
    assert table.style.name == "Table Grid"
    borders = table.style.element.find(qn("w:tblPr")).find(qn("w:tblBorders"))
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        assert borders.find(qn(f"w:{edge}")).get(qn("w:val")) == "single"
    header, first = table.rows[0], table.rows[1]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    assert all(run.font.bold for cell in header.cells for run in cell.paragraphs[0].runs)
    assert first._tr.trPr is None or first._tr.trPr.find(qn("w:tblHeader")) is None
    aligns = [cell.paragraphs[0].alignment for cell in first.cells]
    right, left, centre = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER
    assert aligns == [right, left, right, right, centre, left]
    assert_font(first.cells[1].paragraphs[0], "仿宋_GB2312", 12)
    widths = [column.width for column in table.columns]
    assert widths[1] > widths[0]  # 任务名称 wider than 序号
    assert_mm(Emu(sum(widths)), 156)  # the 版心 width


def test_table_row_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="row 2 has 1 cells, expected 2"):
        Table(["甲", "乙"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="no columns"):
        Table([], [])


# -- refusals and entry points -----------------------------------------------------------------
@pytest.mark.parametrize("title", ["", "   ", "\x00\x01", "\n　\n"])
def test_empty_title_is_refused(title):
    with pytest.raises(ValueError, match="title is empty"):
        OfficialDocument(title=title, body=[Paragraph("正文。")])


@pytest.mark.parametrize("body", [[], (), [Paragraph("")], [Paragraph(" \n\x00 ")]])
def test_empty_body_is_refused(body):
    with pytest.raises(ValueError, match="body is empty"):
        OfficialDocument(title="通报", body=body)


@pytest.mark.parametrize("level", [0, 3, -1])
def test_heading_levels_other_than_1_and_2_are_refused(level):
    with pytest.raises(ValueError, match=f"heading level must be 1 or 2, not {level}"):
        Heading("一、概况", level=level)


def test_other_mistakes_are_refused():
    with pytest.raises(ValueError, match="heading text is empty"):
        Heading("  ")
    with pytest.raises(TypeError, match="body block 1 is a str"):
        OfficialDocument(title="通报", body=["正文。"])
    with pytest.raises(TypeError, match="attachments"):
        OfficialDocument(title="通报", body=[Paragraph("正文。")], attachments="清单")


def test_build_gives_docx_bytes_and_write_takes_a_str_path(tmp_path):
    data = build(LETTER)
    assert data[:2] == b"PK"
    assert "docProps/thumbnail.jpeg" not in zipfile.ZipFile(io.BytesIO(data)).namelist()  # no stale preview
    path = tmp_path / "督办函.docx"
    write(LETTER, str(path))
    document = docx.Document(str(path))
    assert document.core_properties.title == LETTER.title
    assert document.core_properties.author == LETTER.issuer


def test_module_imports_no_django():
    source = Path(official.__file__).resolve().parents[2]
    code = ("import sys, chengzhen.documents.official; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
