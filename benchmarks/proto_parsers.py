"""Compare the two maintained ways of reading .proto files on real repositories.

Usage: python benchmarks/proto_parsers.py DIR [DIR...]   (each DIR: a checkout with .proto files)

For every .proto file under each DIR, prints how many files each reader accepts and how long
it takes:

- ``reader``: proto-schema-parser, as ``endpoints.grpc.reader.parse_proto`` uses it (one file,
  no imports needed);
- ``protoc alone``: grpcio-tools' protoc building a descriptor set from the file alone, which
  is what a per-file scan or a diff of two texts of one file has;
- ``protoc repo``: protoc with the whole checkout on the include path (imports inside the
  repository resolve; third-party ones such as googleapis or validate do not).

The protoc columns need ``pip install grpcio-tools`` (not a dependency of backend-agent).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from backend_agent.analysis.endpoints.grpc import ProtoSyntaxError, parse_proto


def measure_reader(files: list[Path]) -> tuple[int, float]:
    started, accepted = time.perf_counter(), 0
    for file in files:
        try:
            parse_proto(file.read_text(errors="replace"))
            accepted += 1
        except ProtoSyntaxError:
            pass
    return accepted, time.perf_counter() - started


def measure_protoc(root: Path, files: list[Path], alone: bool) -> tuple[int, float] | None:
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:
        return None
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    started, accepted = time.perf_counter(), 0
    with tempfile.TemporaryDirectory() as scratch:
        for file in files:
            relative = file.relative_to(root)
            include = root
            if alone:  # a directory holding this one file at its path
                include = Path(scratch, "alone")
                copy = include / relative
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(file.read_bytes())
            arguments = [
                "protoc",
                f"-I{include}",
                f"-I{well_known}",
                f"--descriptor_set_out={scratch}/out.pb",
                "--include_source_info",
                str(relative),
            ]
            accepted += protoc.main(arguments) == 0
            if alone:
                copy.unlink()
    return accepted, time.perf_counter() - started


def main(roots: list[Path]) -> None:
    for root in roots:
        files = sorted(root.rglob("*.proto"))
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"{root.name}: {len(files)} files, {size:.1f} MB")
        columns = [("reader", measure_reader(files))]
        columns.append(("protoc alone", measure_protoc(root, files, alone=True)))
        columns.append(("protoc repo", measure_protoc(root, files, alone=False)))
        for name, result in columns:
            if result is None:
                print(f"  {name:13} skipped: grpcio-tools is not installed")
                continue
            accepted, seconds = result
            rate = size / seconds if seconds else 0.0
            read = f"{accepted}/{len(files)} files read"
            print(f"  {name:13} {read}, {seconds:.2f} s ({rate:.2f} MB/s)")


if __name__ == "__main__":
    main([Path(arg) for arg in sys.argv[1:]])
