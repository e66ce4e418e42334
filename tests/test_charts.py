"""Charts of the indicators (README, "Charts and the status report"): what they show
(automation/core/progress.py, pure), the PNG itself (pixel size, the same bytes for the
same data, no metadata), its alt text in both languages, the input a chart cannot show
as asked, and the charts in mail where mail programs look for them (multipart/related
inside multipart/alternative, the HTML naming each part by cid:)."""

from __future__ import annotations

import email
import email.policy
import re
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from pathlib import Path

import pytest

from automation.config import InitiativeSettings, MailSettings, Settings, SheetSettings
from automation.core import indicators, progress
from automation.core.model import (
    Group,
    Indicator,
    Initiative,
    Measurement,
    Meeting,
    Message,
    Person,
    Recipient,
)
from automation.core.settings import Rules
from automation.mail.render import Renderer
from automation.progress import charts

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RULES = Rules()
SETTINGS = Settings(
    file=Path("rygrad.toml"),
    initiative=InitiativeSettings(name="Ungeløftet Aarhus", secretariat_name="Sekretariatet",
                                  secretariat_email="sekretariat@ung.example"),
    sheet=SheetSettings(),
    mail=MailSettings(),
)
ANNE = Person(2, "Anne Hansen", "anne@ung.example", "anne@ung.example",
              groups=("Styregruppe",))
BO = Person(3, "Bo Ørsted", "bo@ung.example", "bo@ung.example", groups=("AG Job",),
            language="en")
YOUTH = Indicator(2, "I-01", "Styregruppe", "Unge 15–25 år i uddannelse eller job", "%",
                  84, date(2025, 10, 1), 90, date(2028, 10, 1), 84.5, date(2026, 11, 1),
                  owner=ANNE, owner_text="Anne Hansen")
HISTORY = [Measurement(2, "I-01", date(2026, 2, 1), 84.2, "regneark"),
           Measurement(3, "I-01", date(2026, 6, 1), 84.9, "regneark"),
           Measurement(4, "I-01", date(2026, 11, 1), 80.0, "regneark")]  # Indikatorer wins


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def png_chunks(png: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(png):
        length = struct.unpack(">I", png[at:at + 4])[0]
        chunks.append(png[at + 4:at + 8])
        at += 12 + length
    return chunks


def initiative(indicator: Indicator = YOUTH, history: list[Measurement] | None = None
               ) -> Initiative:
    return Initiative(
        people=[ANNE, BO],
        groups={"Styregruppe": Group(2, "Styregruppe", "Styregruppe", ANNE, "Flere unge i job"),
                "AG Job": Group(3, "AG Job", "Arbejdsgruppe", BO, "Flere praktikpladser")},
        meetings=[Meeting(2, "SG-1", "Styregruppe", date(2026, 12, 4), time(14), time(16),
                          "Rådhuset", ("Velkomst", "Status fra grupperne")),
                  Meeting(3, "AGJ-1", "AG Job", date(2026, 12, 4), time(9), time(10),
                          "Jobcentret", ("Praktikpladser",))],
        indicators=[indicator, replace(YOUTH, row=3, id="I-02", group="AG Job",
                                       indicator="Nye praktikpladser", unit="antal",
                                       baseline=0, target=60, current=10)],
        measurements=HISTORY if history is None else history,
    )


# -- what a chart shows (pure) ------------------------------------------------------------

def test_the_values_are_the_history_and_the_current_value_one_per_date():
    data = progress.chart_data(YOUTH, initiative(), TODAY, RULES)
    assert data.points == ((date(2026, 2, 1), 84.2), (date(2026, 6, 1), 84.9),
                           (date(2026, 11, 1), 84.5))
    assert data.trend == progress.FALLING
    assert data.baseline == (date(2025, 10, 1), 84)
    assert data.target == (date(2028, 10, 1), 90)


def test_the_band_runs_from_the_straight_line_down_by_the_tolerance():
    data = progress.chart_data(YOUTH, initiative(), TODAY, RULES)
    assert data.band == ((date(2025, 10, 1), 84, pytest.approx(83.4)),
                         (date(2028, 10, 1), 90, pytest.approx(89.4)))
    wider = progress.chart_data(YOUTH, initiative(), TODAY, replace(RULES,
                                                                    on_track_tolerance=0.5))
    assert wider.band[1][2] == pytest.approx(87)


@pytest.mark.parametrize("current, verdict", [(84.5, "behind"), (85.9, "on_track"),
                                              (91, "achieved"), (None, "no_data")])
def test_the_assessment_is_the_sheets(current, verdict):
    indicator = replace(YOUTH, current=current)
    data = progress.chart_data(indicator, initiative(indicator, []), TODAY, RULES)
    assert data.assessment == verdict == indicators.assess(indicator, TODAY, RULES)


def test_the_alt_text_says_the_chart_in_words_in_danish_and_english():
    data = progress.chart_data(YOUTH, initiative(), TODAY, RULES)
    danish = progress.alt_text(data, "da")
    assert "»Unge 15–25 år i uddannelse eller job«" in danish
    assert "seneste værdi 84,5\u00a0% (1. nov. 2026)" in danish
    assert "mål 90\u00a0% senest 1. okt. 2028" in danish
    assert "Vurdering: Bagud" in danish
    assert "Tendens: faldende" in danish
    english = progress.alt_text(data, "en")
    assert "latest value 84.5% (1 Nov 2026)" in english
    assert "target 90% by 1 Oct 2028" in english
    assert "Assessment: Behind" in english
    assert "Trend: falling" in english


# -- the picture ----------------------------------------------------------------------------

def test_the_png_is_twice_its_css_size_the_same_bytes_each_time_and_without_metadata():
    data = progress.chart_data(YOUTH, initiative(), TODAY, RULES)
    drawn = charts.chart(data, "da")
    assert (drawn.width, drawn.height) == (640, 360)
    assert png_size(drawn.png) == (1280, 720)
    charts._png.cache_clear()
    again = charts.chart(data, "da")
    assert again.png == drawn.png and again.cid == drawn.cid
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(png_chunks(drawn.png))
    assert drawn.alt == progress.alt_text(data, "da")
    assert re.fullmatch(r"chart-I-01-[0-9a-f]{16}@rygrad", drawn.cid)


def test_the_same_chart_in_another_process_is_the_same_bytes(tmp_path):
    """Nothing of the machine's fonts or the clock reaches the PNG."""
    data = progress.chart_data(YOUTH, initiative(), TODAY, RULES)
    here = charts.chart(data, "en").png
    script = (
        "import sys; from datetime import date; sys.path.insert(0, '.');"
        "from tests.test_charts import YOUTH, initiative, RULES, TODAY;"
        "from automation.core import progress; from automation.progress import charts;"
        "sys.stdout.buffer.write(charts.chart(progress.chart_data("
        "YOUTH, initiative(), TODAY, RULES), 'en').png)")
    there = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                           cwd=Path(__file__).resolve().parents[1]).stdout
    assert there == here


def test_the_chart_is_drawn_the_title_holds_the_assessment(tmp_path):
    """Not a blank image: dark pixels (the line, the text) on white, in both languages,
    and different charts for different assessments."""
    behind = charts.chart(progress.chart_data(YOUTH, initiative(), TODAY, RULES), "da")
    ahead = replace(YOUTH, current=89.0)
    on_track = charts.chart(progress.chart_data(ahead, initiative(ahead), TODAY, RULES), "da")
    assert behind.png != on_track.png
    pixels = _pixels(behind.png)
    dark = sum(1 for value in pixels if value < 80)
    assert 0.005 < dark / len(pixels) < 0.2


def _pixels(png: bytes) -> bytes:
    """The first channel of every pixel of an 8-bit grey or RGBA PNG (filters undone)."""
    width, height = png_size(png)
    step = {0: 1, 4: 2, 2: 3, 6: 4}[png[25]]  # bytes per pixel by the PNG colour type
    data, at = b"", 8
    while at < len(png):
        length = struct.unpack(">I", png[at:at + 4])[0]
        if png[at + 4:at + 8] == b"IDAT":
            data += png[at + 8:at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(data)
    stride = width * step
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up = previous[x]
            corner = previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 255
        rows.append(bytes(line[0::step]))
        previous = line
    return b"".join(rows)


# -- input a chart cannot show as asked -----------------------------------------------------

@pytest.mark.parametrize("indicator, history, problem", [
    (replace(YOUTH, current=None, updated=None), [], progress.NO_VALUES),
    (YOUTH, [], progress.ONE_VALUE),
    (YOUTH, [Measurement(2, "I-01", date(2026, 3, 1), 84_000.0)], progress.OFF_SCALE),
    (replace(YOUTH, target_date=date(2025, 1, 1)), [], progress.TARGET_BEFORE_START),
    (replace(YOUTH, baseline=None, target=None, start_date=None, target_date=None), HISTORY,
     None),
    (replace(YOUTH, baseline=85, target=85), HISTORY, None),  # target equal to the baseline
    (replace(YOUTH, current=-3e9), [], progress.OFF_SCALE),
])
def test_a_chart_is_still_drawn_and_names_what_it_could_not_show(indicator, history,
                                                                   problem):
    data = progress.chart_data(indicator, initiative(indicator, history), TODAY, RULES)
    drawn = charts.chart(data, "da")
    assert png_size(drawn.png) == (1280, 720)
    if problem is None:
        assert data.problems == ()
        return
    assert problem in data.problems
    sentence = progress.problem_text(data, problem, "da")
    assert sentence in drawn.alt
    assert progress.problem_text(data, problem, "en") in charts.chart(data, "en").alt
    low, high = data.y_range
    assert all(low <= v <= high for point in data.points if point not in data.off_scale
               for v in [point[1]])


def test_a_value_far_off_the_scale_is_named_with_its_value():
    far = [Measurement(2, "I-01", date(2026, 3, 1), 84_000.0)]
    data = progress.chart_data(YOUTH, initiative(YOUTH, far), TODAY, RULES)
    assert data.off_scale == ((date(2026, 3, 1), 84_000.0),)
    assert data.y_range[1] < 100  # the plan keeps its scale
    assert "84.000\u00a0%" in progress.problem_text(data, progress.OFF_SCALE, "da")


# -- in mail --------------------------------------------------------------------------------

def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def shape(part: EmailMessage) -> object:
    if part.is_multipart():
        return (part.get_content_type(), [shape(p) for p in part.iter_parts()])
    return part.get_content_type()


def message(kind: str, subject_id: str, recipient: Person = ANNE) -> Message:
    return Message(kind, f"{kind}:{subject_id}", Recipient(recipient.name, recipient.email or "",
                                                          recipient.language), subject_id,
                   payload={"next_update": "2026-12-05", "n": 1} if kind == "indicator" else {})


def test_an_indicator_request_shows_its_chart_inline_where_mail_programs_look():
    mail = parsed(Renderer(SETTINGS).render(message("indicator", "I-01"), initiative(), NOW))
    assert shape(mail) == ("multipart/alternative", [
        "text/plain", ("multipart/related", ["text/html", "image/png"])])
    related = list(mail.iter_parts())[1]
    html, image = list(related.iter_parts())
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert image.get_content_disposition() == "inline" and image.get_filename() == "I-01.png"
    assert png_size(image.get_content()) == (1280, 720)
    text = mail.get_body(("plain",)).get_content()
    assert "seneste værdi 84,5" in text and "Vurdering: Bagud" in text


def test_another_groups_agenda_carries_no_chart_and_no_report():
    mail = parsed(Renderer(SETTINGS).render(message("agenda", "AGJ-1", BO), initiative(), NOW))
    assert shape(mail) == ("multipart/alternative", ["text/plain", "text/html"])


@pytest.mark.slow
def test_the_steering_groups_agenda_has_every_chart_inline_and_the_report_attached():
    renderer = Renderer(SETTINGS)
    data = renderer.render(message("agenda", "SG-1"), initiative(), NOW)
    mail = parsed(data)
    assert shape(mail) == ("multipart/mixed", [
        ("multipart/alternative", ["text/plain", ("multipart/related",
                                                  ["text/html", "image/png", "image/png"])]),
        "application/pdf"])
    html = mail.get_body(("html",)).get_content()
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    for image in images:
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    pdf = next(p for p in mail.walk() if p.get_content_type() == "application/pdf")
    assert pdf.get_filename() == "Statusrapport-2026-12-04.pdf"
    assert pdf.get_content()[:5] == b"%PDF-"
    text = mail.get_body(("plain",)).get_content()
    assert "Nye praktikpladser" in text  # another group's indicator: the steering group sees all
    assert "Statusrapport-2026-12-04.pdf" in text
    # the same input gives the same bytes, from a new renderer too
    assert Renderer(SETTINGS).render(message("agenda", "SG-1"), initiative(), NOW) == data
    english = parsed(renderer.render(message("agenda", "SG-1", replace(ANNE, language="en")),
                                     initiative(), NOW))
    assert next(p for p in english.walk()
                if p.get_content_type() == "application/pdf").get_filename() \
        == "Status-report-2026-12-04.pdf"


# -- matplotlib and WeasyPrint only when a mail has a chart ----------------------------------

CYCLE = """
import sys
from automation.cli import main
status = main(["run", "--once", "--config", sys.argv[1], "--now", sys.argv[2]])
loaded = [name for name in ("matplotlib", "weasyprint") if name in sys.modules]
print("LOADED", ",".join(loaded) or "-", "STATUS", status)
"""


@pytest.mark.slow
@pytest.mark.parametrize("with_indicators", [False, True])
def test_a_cycle_that_sends_no_chart_loads_neither_matplotlib_nor_weasyprint(
        tmp_path, with_indicators):
    from openpyxl import load_workbook

    from automation.cli import main

    assert main(["init", str(tmp_path)]) == 0
    book = tmp_path / "examples" / "initiative.xlsx"
    if not with_indicators:
        workbook = load_workbook(book)
        tab = workbook["Indikatorer"]
        tab.delete_rows(2, tab.max_row)
        workbook.save(book)
    day = date.today()  # the example's dates sit around today; a weekday sends
    while day.weekday() >= 5:
        day = date.fromordinal(day.toordinal() + 1)
    run = subprocess.run([sys.executable, "-c", CYCLE, str(tmp_path / "config" / "rygrad.toml"),
                          f"{day.isoformat()}T10:00"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    line = next(line for line in run.stdout.splitlines() if line.startswith("LOADED"))
    sent = len(list((tmp_path / "outbox").glob("**/*.eml")))
    assert sent > 0, run.stdout + run.stderr
    if with_indicators:  # indicator requests are due in the example: their charts load it
        assert line.split()[1].startswith("matplotlib"), run.stdout + run.stderr
    else:
        assert line.split()[1] == "-", run.stdout + run.stderr


def test_without_weasyprint_the_steering_agenda_is_not_rendered_and_says_why(monkeypatch):
    """No Pango on the machine (WeasyPrint cannot load): that mail fails with the reason,
    which the cycle lists as not rendered; it is never sent without its report."""
    from automation.errors import RygradError

    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(RygradError, match="needs WeasyPrint and Pango"):
        Renderer(SETTINGS).render(message("agenda", "SG-1"), initiative(), NOW)
    # the other mails go on
    assert Renderer(SETTINGS).render(message("agenda", "AGJ-1", BO), initiative(), NOW)
