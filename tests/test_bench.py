"""`make bench` at a tiny size, so that the benchmark never rots. Timings are measured, never asserted."""

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_bench_measures_every_run_and_writes_the_report(tmp_path):
    report = tmp_path / "benchmarks.md"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.bench",
            "--accounts",
            "25",
            "--days",
            "45",
            "--usage-scale",
            "1",
            "--work-dir",
            str(tmp_path / "work"),
            "--report",
            str(report),
            "--floor-sample",
            "300",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    text = report.read_text()
    assert "## 25 accounts x 45 days" in text
    for label in ("full refresh through Dagster", "one new day", "without Dagster", "floor", "full refresh / floor"):
        assert label in text, label
    result = json.loads((tmp_path / "work" / "25x45" / "result.json").read_text())
    for run in ("full", "one_day", "plain", "floor"):
        assert result[run]["returncode"] == 0 and result[run]["seconds"] > 0 and result[run]["peak_rss_bytes"] > 0
    assert result["events"] > 0 and result["account_days"] > 0
    assert "disagreeing=0" in result["floor_agreement"], result["floor_agreement"]
    # Only the logs and the results stay behind: at 10,000 accounts the rest is 11 GB.
    assert {path.suffix for path in (tmp_path / "work" / "25x45").iterdir()} == {".log", ".json"}
