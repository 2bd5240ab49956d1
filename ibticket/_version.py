"""The version, kept in one place: pyproject.toml.

A source checkout reads it from pyproject.toml (so an editable install never reports a stale number); an
installed wheel or the desktop bundle reads the installed distribution's metadata, which pip and the
bundle's spec both take from pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

UNKNOWN = "0+unknown"


def read_version() -> str:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        with pyproject.open("rb") as handle:
            project = tomllib.load(handle).get("project", {})
        if project.get("name") == "ibticket" and project.get("version"):
            return str(project["version"])
    from importlib import metadata

    try:
        return metadata.version("ibticket")
    except metadata.PackageNotFoundError:
        return UNKNOWN
