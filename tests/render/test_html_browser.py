"""The chart report in a real browser: headless Chromium prints each example to PDF on A4 and on
Letter and takes a screenshot; the PDF has a sensible page count, the status is on page 1 and every
page says it is decision support for clinician review.

Chromium is Debian's package (``apt-get install chromium``; ``.ci/run`` installs it). Without it
this module is skipped, saying so.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kapdecide import pipeline
from kapdecide.protocol.loader import load_protocols
from kapdecide.render.html import chart_report
from kapdecide.render.summary import STATUS_LOOK

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
BROWSER = next((b for b in (shutil.which(n) for n in ("chromium", "chromium-browser")) if b), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="headless Chromium not found (apt-get install chromium; .ci/run installs it): "
    "the chart report was not tested in a browser",
)
PAPER = {"a4": "@page { size: A4; }", "letter": "@page { size: letter; }"}
#: Summary page, pictures and findings, options, evidence: never fewer; a long report stays bounded.
PAGES = range(3, 16)


def _chromium(*args: str) -> None:
    assert BROWSER is not None
    with tempfile.TemporaryDirectory(prefix="kapdecide-chromium-") as profile:
        subprocess.run(
            [
                BROWSER,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-pdf-header-footer",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env={**os.environ, "HOME": profile},
        )


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    """Each example's status label, and the folder with its PDFs (A4, Letter) and screenshot."""
    protocols = load_protocols([ROOT / "protocols"])
    jobs: list[list[str]] = []
    out: dict[str, tuple[str, Path]] = {}
    for name in EXAMPLES:
        path = ROOT / "examples" / f"{name}.yaml"
        checked = pipeline.from_bytes(path.read_bytes(), str(path), today=dt.date(2026, 11, 21))
        report, html = chart_report(checked, protocols)
        folder = tmp_path_factory.mktemp(name)
        for paper, rule in PAPER.items():
            page = folder / f"{paper}.html"
            page.write_text(html.replace("</style>", f"{rule}\n</style>", 1), encoding="utf-8")
            jobs.append([f"--print-to-pdf={folder / f'{paper}.pdf'}", page.as_uri()])
        jobs.append([f"--screenshot={folder / 'page.png'}", "--window-size=1024,1400", (folder / "a4.html").as_uri()])
        out[name] = (STATUS_LOOK[report["status"]][0], folder)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda a: _chromium(*a), jobs))
    yield out


@pytest.mark.parametrize("paper", list(PAPER))
@pytest.mark.parametrize("name", EXAMPLES)
def test_the_chart_report_prints_with_the_status_on_page_one(
    printed: dict[str, tuple[str, Path]], name: str, paper: str
) -> None:
    from pypdf import PdfReader

    status, folder = printed[name]
    reader = PdfReader(folder / f"{paper}.pdf")
    assert len(reader.pages) in PAGES, len(reader.pages)
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == ((595, 842) if paper == "a4" else (612, 792))
    texts = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    assert status in texts[0], texts[0][:300]
    assert "Details, pictures, evidence and the receipt follow" in texts[0]  # the whole summary on page 1
    assert texts[1].startswith("At a glance") or "At a glance" in texts[1][:200]
    for number, text in enumerate(texts, start=1):
        assert "Decision support for clinician review" in text, f"page {number} lacks the statement"
        assert f"page {number} of {len(texts)}" in text
    assert "Reviewed by (name, role)" in texts[-1]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_chart_report_renders_on_screen(printed: dict[str, tuple[str, Path]], name: str) -> None:
    png = (printed[name][1] / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


SAMPLES = ROOT.parent / "shared" / "fhir-samples"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fhir-samples/ is not present")
def test_the_summary_of_a_real_record_fits_page_one(tmp_path: Path) -> None:
    """Real FHIR records miss dozens of items: the summary page still holds the whole summary (the
    rest is counted there and listed in the details)."""
    from pypdf import PdfReader

    protocols = load_protocols([ROOT / "protocols"])
    jobs = []
    for sample in sorted(SAMPLES.glob("*.json")):
        checked = pipeline.from_bytes(sample.read_bytes(), str(sample), as_of=dt.date(2026, 11, 21), today=None)
        _, html = chart_report(checked, protocols)
        page = tmp_path / f"{sample.stem}.html"
        page.write_text(html.replace("</style>", f"{PAPER['a4']}\n</style>", 1), encoding="utf-8")
        jobs.append([f"--print-to-pdf={tmp_path / f'{sample.stem}.pdf'}", page.as_uri()])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda a: _chromium(*a), jobs))
    for sample in sorted(SAMPLES.glob("*.json")):
        first = PdfReader(tmp_path / f"{sample.stem}.pdf").pages[0].extract_text() or ""
        assert "Details, pictures, evidence and the receipt follow" in " ".join(first.split()), sample.name
