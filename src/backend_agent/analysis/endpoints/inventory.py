"""The inventory engine: runs every extractor over a project, scanning only files whose blob
was not scanned before and resolving only sets of files not resolved before."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import import_module
from typing import Any, Protocol, TypeVar

from backend_agent.analysis.endpoints.base import EndpointExtractor, FileScanner
from backend_agent.analysis.endpoints.cache import ResolvedCache, ScanCache, cache_dir
from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.project import Project

# Modules under backend_agent.analysis.endpoints, each exposing ``extractor``.
EXTRACTOR_MODULES: tuple[str, ...] = ("python", "go", "javascript", "ruby", "graphql", "grpc")

# Below this many bytes to scan, a process pool costs more than it saves (most files are
# settled by the extractors' cheap lexical prefilters, which are faster than pickling).
PARALLEL_THRESHOLD = 32_000_000

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


def extractors() -> list[EndpointExtractor]:
    """The extractor of every module in EXTRACTOR_MODULES, in order."""
    found: list[EndpointExtractor] = []
    for name in EXTRACTOR_MODULES:
        module = import_module(f"backend_agent.analysis.endpoints.{name}")
        found.append(module.extractor)
    return found


def build_inventory(project: Project, progress: Progress | None = None) -> Inventory:
    """Every endpoint of the project (at its revision), sorted and de-duplicated."""
    merged = Inventory()
    for found in run_extractors(project, extractors(), Inventory, "endpoints", progress):
        merged.endpoints.extend(found.endpoints)
        merged.unresolved.extend(found.unresolved)
    return merged.sorted()


class Extractor(FileScanner, Protocol[T_co]):
    """A two-phase analysis whose ``resolve`` joins all files' facts into a ``T_co``."""

    def resolve(self, facts: Mapping[str, Any], project: Project) -> T_co: ...


def run_extractors(
    project: Project,
    found_by: Sequence[Extractor[T]],
    kind: type[T],
    family: str,
    progress: Progress | None = None,
) -> list[T]:
    """Each extractor's resolved result, from the caches where the files' blobs were seen
    before (``family`` names the analysis in cache file names: "endpoints", "queues")."""
    results: list[T] = []
    directory = cache_dir(project)
    for extractor in found_by:
        paths = [p for p in project.files() if extractor.wants(p)]
        resolved = ResolvedCache(
            directory, extractor.name, extractor.version, kind, f"{family}-inventory"
        )
        key = resolved.key([(path, project.blob(path)) for path in paths])
        found = resolved.get(key)
        if found is None:
            cache = ScanCache(directory, extractor.name, extractor.version, family=family)
            facts = scan_files(extractor, project, paths, cache, progress)
            cache.save()
            found = extractor.resolve(facts, project)
            resolved.put(key, found)
        results.append(found)
    return results


def scan_files(
    extractor: FileScanner,
    project: Project,
    paths: list[str],
    cache: ScanCache,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """path -> facts, from the cache where the blob is known, else by scanning."""
    facts: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    for path in paths:
        blob = project.blob(path)
        hit, value = cache.get(blob)
        if hit:
            facts[path] = value
        else:
            missing.append((path, blob))
    if progress is not None and missing:
        progress(extractor.name, 0, len(missing))
    sources = [(path, project.read_bytes(path)) for path, _ in missing]
    for done, ((path, blob), value) in enumerate(
        zip(missing, _scan(extractor, sources), strict=True), 1
    ):
        cache.put(blob, value)
        facts[path] = value
        if progress is not None and (done % 200 == 0 or done == len(missing)):
            progress(extractor.name, done, len(missing))
    return facts


def _scan(extractor: FileScanner, sources: list[tuple[str, bytes]]) -> Any:
    """Scan results in input order; a process pool for big batches on several cores."""
    workers = min(os.cpu_count() or 1, 8)
    if sum(len(data) for _, data in sources) < PARALLEL_THRESHOLD or workers < 2:
        return (extractor.scan(path, data) for path, data in sources)
    module = type(extractor).__module__
    count = len(sources)
    pool = ProcessPoolExecutor(max_workers=workers)
    items = [(module, path, data) for path, data in sources]
    try:
        return list(pool.map(_scan_one, items, chunksize=max(1, count // (workers * 8))))
    finally:
        pool.shutdown()


def _scan_one(item: tuple[str, str, bytes]) -> Any:
    module, path, data = item
    extractor: FileScanner = import_module(module).extractor
    return extractor.scan(path, data)
