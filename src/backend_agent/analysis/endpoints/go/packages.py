"""Go packages in a repository: the name an import path is known by, and the directory that
holds it (through go.mod module paths, or a unique directory suffix). Shared by the endpoint
and queue readers of Go."""

from __future__ import annotations

import re
from collections.abc import Mapping


def package_name(import_path: str) -> str:
    """The default name of an imported package: its last path element, skipping ``/vN``."""
    parts = import_path.split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


class PackageDirectories:
    """Maps Go import paths to the repository directories that hold those packages."""

    def __init__(self, modules: Mapping[str, str], directories: set[str]) -> None:
        self.modules = modules  # go.mod directory -> module path
        self.directories = directories
        self._suffixes: dict[str, list[str]] = {}
        for where in directories:
            pieces = where.split("/") if where else []
            for start in range(len(pieces)):
                self._suffixes.setdefault("/".join(pieces[start:]), []).append(where)

    def find(self, import_path: str) -> str | None:
        """The directory of an imported package: through the go.mod that declares its module,
        else the longest unique directory suffix of the import path."""
        for where, module in self.modules.items():
            if module and (import_path == module or import_path.startswith(module + "/")):
                rest = import_path[len(module) :].strip("/")
                candidate = "/".join(part for part in (where, rest) if part)
                if candidate in self.directories:
                    return candidate
        parts = import_path.split("/")
        for start in range(len(parts)):
            found = self._suffixes.get("/".join(parts[start:]), [])
            if len(found) == 1:
                return found[0]
        return None
