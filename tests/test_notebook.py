"""notebooks/explore.ipynb runs top to bottom on the demo database, in a real Jupyter kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"
# One plot each: articles per day by topic, language mix, reading time, top feeds, failure reasons.
MIN_PLOTS = 4


def test_notebook_is_saved_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert notebook.metadata.kernelspec.name == "python3"


def test_notebook_runs_on_the_demo_database(demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ENRICH_DB_PATH", str(demo_db))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    before = demo_db.stat().st_mtime_ns
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel inherits this process's environment; it runs in a scratch directory so that a
    # relative path could not silently pick up the developer's data/enriched.duckdb.
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) >= MIN_PLOTS, f"{len(images)} plots"
    printed = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert str(demo_db.resolve()) in printed and "ok  17" in printed
    assert demo_db.stat().st_mtime_ns == before, "the notebook wrote to the database"
